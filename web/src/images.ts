/** Images as the API returns them, made displayable: object/data URLs plus the seed, class and truncation of each. */
import { mainName, type ClassEntry } from './classes.js';

/** One displayable image. */
export interface ShownImage {
  /** blob: or data: URL of the exact bytes the API sent. */
  readonly src: string;
  readonly mimeType: string;
  readonly seed: string;
  readonly truncation: number;
  /** Class weights by index, as the API reports them. */
  readonly cls: Readonly<Record<string, number>>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function weights(v: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (isRecord(v)) for (const [k, w] of Object.entries(v)) if (typeof w === 'number') out[k] = w;
  return out;
}

/** The images of a JSON answer (`images` of /generate, `frames` of /interpolate). */
export function imagesFromJson(body: unknown, key: 'images' | 'frames'): ShownImage[] {
  const list = isRecord(body) ? body[key] : undefined;
  if (!Array.isArray(list)) throw new Error(`the server's answer has no ${key} list`);
  return list.filter(isRecord).map((img) => {
    const mimeType = typeof img.mimeType === 'string' ? img.mimeType : 'image/png';
    return {
      src: `data:${mimeType};base64,${String(img.data)}`,
      mimeType,
      seed: img.seed === undefined ? '' : String(img.seed),
      truncation: typeof img.truncation === 'number' ? img.truncation : NaN,
      cls: weights(img.class),
    };
  });
}

/** The image of a single-image answer (bytes in the body, metadata in X-Seed, X-Truncation, X-Class). */
export async function imageFromResponse(res: Response): Promise<ShownImage> {
  const blob = await res.blob();
  let cls: Record<string, number> = {};
  try {
    cls = weights(JSON.parse(res.headers.get('x-class') ?? '{}'));
  } catch {
    // A missing or odd header only costs the caption its class name.
  }
  return {
    src: URL.createObjectURL(blob),
    mimeType: blob.type || 'image/png',
    seed: res.headers.get('x-seed') ?? '',
    truncation: Number(res.headers.get('x-truncation') ?? NaN),
    cls,
  };
}

/** A caption for class weights: `golden retriever`, or `70% golden retriever + 30% tench`. */
export function classCaption(cls: Readonly<Record<string, number>>, classes: readonly ClassEntry[]): string {
  const name = (k: string) => {
    const e = classes[Number(k)];
    return e && e.index === Number(k) ? mainName(e) : `class ${k}`;
  };
  // Heaviest class first (JSON objects list integer keys in ascending order, whatever was sent).
  const entries = Object.entries(cls)
    .filter(([, w]) => w > 0)
    .sort((a, b) => b[1] - a[1] || Number(a[0]) - Number(b[0]));
  if (entries.length === 1) return name(entries[0][0]);
  const total = entries.reduce((s, [, w]) => s + w, 0) || 1;
  return entries.map(([k, w]) => `${Math.round((100 * w) / total)}% ${name(k)}`).join(' + ');
}

/** A file name for a download: `biggan-golden-retriever-seed7-t0.5.png`. */
export function fileName(caption: string, seed: string, truncation: number, mimeType: string): string {
  const slug =
    caption
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 60) || 'image';
  const ext = mimeType.split('/')[1]?.replace('jpeg', 'jpg') ?? 'png';
  return `biggan-${slug}${seed ? `-seed${seed}` : ''}${Number.isFinite(truncation) ? `-t${truncation}` : ''}.${ext}`;
}
