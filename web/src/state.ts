/**
 * The page's whole state and its URL form (the query string), so a permalink reproduces the same
 * images and back/forward restore earlier ones. Also the API request bodies built from the state:
 * the page, "copy as curl" and the tests all use these same bodies.
 */

/** Controls of the generate view. */
export interface GenerateState {
  /** Model name; '' = the server's default. */
  model: string;
  /** Class spec (usually an index as a string); '' = none chosen. */
  cls: string;
  /** Second class spec for a mixture; '' = no mixture. */
  mix: string;
  /** Weight of the first class in a mixture, 0..1 (the second gets 1 - w). */
  w: number;
  truncation: number;
  /** Decimal seed ('' = none yet). */
  seed: string;
  /** Locked: Generate keeps the seed; unlocked: each Generate rolls a new one. */
  lock: boolean;
  count: number;
  format: string;
}

/** Controls of the interpolate view. */
export interface InterpolateState {
  from: string;
  fromSeed: string;
  to: string;
  toSeed: string;
  frames: number;
  method: string;
  truncation: number;
}

/** Everything the URL holds. */
export interface PageState {
  view: 'generate' | 'interpolate';
  gen: GenerateState;
  interp: InterpolateState;
}

export const TRUNCATION_MIN = 0.02;
export const DEFAULT_TRUNCATION = 0.4;
export const MAX_COUNT = 16;

/** The state of a fresh page. */
export function defaultState(): PageState {
  return {
    view: 'generate',
    gen: {
      model: '',
      cls: '',
      mix: '',
      w: 0.5,
      truncation: DEFAULT_TRUNCATION,
      seed: '',
      lock: true,
      count: 1,
      format: 'png',
    },
    interp: { from: '', fromSeed: '', to: '', toSeed: '', frames: 8, method: 'lerp', truncation: DEFAULT_TRUNCATION },
  };
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
/** Rounds to 2 decimals (slider steps are 0.01). */
export const round2 = (x: number) => Math.round(x * 100) / 100;

function num(p: URLSearchParams, key: string, fallback: number, lo: number, hi: number, integer = false): number {
  const raw = p.get(key);
  if (raw === null || raw.trim() === '') return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v)) return fallback;
  return clamp(integer ? Math.round(v) : round2(v), lo, hi);
}

const seedOf = (raw: string | null) => (raw !== null && /^\d{1,20}$/.test(raw) ? raw : '');

/** Parses a query string (`?class=207&seed=7...`); missing or bad values take their defaults. */
export function parseState(search: string): PageState {
  const p = new URLSearchParams(search);
  const d = defaultState();
  return {
    view: p.get('view') === 'interpolate' ? 'interpolate' : 'generate',
    gen: {
      model: p.get('model') ?? '',
      cls: p.get('class') ?? '',
      mix: p.get('mix') ?? '',
      w: num(p, 'w', d.gen.w, 0, 1),
      truncation: num(p, 'truncation', d.gen.truncation, TRUNCATION_MIN, 1),
      seed: seedOf(p.get('seed')),
      lock: p.get('lock') !== '0',
      count: num(p, 'count', d.gen.count, 1, MAX_COUNT, true),
      format: ['png', 'jpeg', 'webp'].includes(p.get('format') ?? '') ? (p.get('format') ?? 'png') : d.gen.format,
    },
    interp: {
      from: p.get('from') ?? '',
      fromSeed: seedOf(p.get('fromSeed')),
      to: p.get('to') ?? '',
      toSeed: seedOf(p.get('toSeed')),
      frames: num(p, 'frames', d.interp.frames, 2, MAX_COUNT, true),
      method: p.get('method') === 'slerp' ? 'slerp' : 'lerp',
      truncation: num(p, 'itruncation', d.interp.truncation, TRUNCATION_MIN, 1),
    },
  };
}

/** The query string of a state: what reproduces the images is always written, other defaults are left out. */
export function serializeState(s: PageState): string {
  const p = new URLSearchParams();
  const d = defaultState();
  const put = (key: string, value: string | number, def?: string | number) => {
    if (value === '' || value === def) return;
    p.set(key, String(value));
  };
  put('view', s.view, 'generate');
  const g = s.gen;
  put('model', g.model);
  put('class', g.cls);
  put('mix', g.mix);
  if (g.mix) put('w', g.w);
  put('truncation', g.truncation);
  put('seed', g.seed);
  put('lock', g.lock ? '' : '0');
  put('count', g.count, d.gen.count);
  put('format', g.format, d.gen.format);
  const i = s.interp;
  put('from', i.from);
  put('fromSeed', i.fromSeed);
  put('to', i.to);
  put('toSeed', i.toSeed);
  put('frames', i.frames, d.interp.frames);
  put('method', i.method, d.interp.method);
  put('itruncation', i.truncation, d.interp.truncation);
  const q = p.toString();
  return q ? `?${q}` : '';
}

/** A class spec as JSON: an index as a number, anything else (name, WordNet id) as a string. */
function classJson(spec: string): number | string {
  return /^\d+$/.test(spec) ? Number(spec) : spec;
}

/** A seed as JSON: a number when exact as a double, else a decimal string. */
function seedJson(seed: string): number | string {
  return BigInt(seed) <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(seed) : seed;
}

/** The POST /v1/generate body of a state. `model` is sent only when it is not the default one. */
export function generateBody(g: GenerateState, defaultModel: string): Record<string, unknown> {
  // A class mixed with itself is just that class.
  const cls = g.mix && g.mix !== g.cls ? { [g.cls]: round2(g.w), [g.mix]: round2(1 - g.w) } : classJson(g.cls);
  return {
    ...(g.model && g.model !== defaultModel ? { model: g.model } : {}),
    class: cls,
    truncation: g.truncation,
    seed: seedJson(g.seed),
    ...(g.count > 1 ? { count: g.count } : {}),
    ...(g.format !== 'png' ? { format: g.format } : {}),
  };
}

/** The POST /v1/interpolate body of a state, answering an animation (gif, webp) or JSON frames (png). */
export function interpolateBody(
  i: InterpolateState,
  format: 'png' | 'gif' | 'webp',
  model: string,
  defaultModel: string,
): Record<string, unknown> {
  return {
    ...(model && model !== defaultModel ? { model } : {}),
    from: { class: classJson(i.from), seed: seedJson(i.fromSeed) },
    to: { class: classJson(i.to), seed: seedJson(i.toSeed) },
    frames: i.frames,
    method: i.method,
    truncation: i.truncation,
    format,
  };
}
