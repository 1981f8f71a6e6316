/**
 * Encoding 8-bit RGB images with sharp (libvips; runs on libuv's thread pool, so encoding
 * overlaps inference instead of blocking the event loop): single images, grids, animations.
 */
import sharp from 'sharp';

/** Still-image formats a client may ask for. */
export type ImageFormat = 'png' | 'jpeg' | 'webp';
export const IMAGE_FORMATS: readonly ImageFormat[] = ['png', 'jpeg', 'webp'];
/** Animation formats for interpolations. */
export type AnimationFormat = 'gif' | 'webp';

/** MIME type of each format. */
export const MIME_TYPES: Record<ImageFormat | 'gif', string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
};

/** An 8-bit RGB image, row-major [height, width, 3]. */
export interface Rgb8Image {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

// Fixed encoder settings so the same pixels always give the same bytes (HTTP and gRPC agree).
const PNG_OPTIONS = { compressionLevel: 6, adaptiveFiltering: false } as const;
const JPEG_OPTIONS = { quality: 92, mozjpeg: false } as const;
const WEBP_OPTIONS = { quality: 92, lossless: false } as const;

/**
 * The encoder's identity for cache keys and ETags: its settings and libvips' version (a new
 * libvips may compress differently; then the bytes, and so the ETags, change too).
 */
export const ENCODER_ID = `vips ${sharp.versions.vips}; png ${JSON.stringify(PNG_OPTIONS)}; jpeg ${JSON.stringify(JPEG_OPTIONS)}; webp ${JSON.stringify(WEBP_OPTIONS)}; gif loop 0 delay 200`;

/** Encodes one RGB image as PNG (lossless: the reference's pixels), JPEG or WebP. */
export async function encodeImage(img: Rgb8Image, format: ImageFormat): Promise<Buffer> {
  const s = sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
  if (format === 'png') return s.png(PNG_OPTIONS).toBuffer();
  if (format === 'jpeg') return s.jpeg(JPEG_OPTIONS).toBuffer();
  return s.webp(WEBP_OPTIONS).toBuffer();
}

/**
 * Tiles images (all the same size) into a grid, row by row, `columns` wide (default: a near-square
 * grid), with `gap` pixels of white between cells. Pure pixel copying, no resampling.
 */
export function makeGrid(images: readonly Rgb8Image[], columns?: number, gap = 2): Rgb8Image {
  if (images.length === 0) throw new RangeError('makeGrid needs at least one image');
  const { width: w, height: h } = images[0];
  const cols = Math.max(1, Math.min(images.length, columns ?? Math.ceil(Math.sqrt(images.length))));
  const rows = Math.ceil(images.length / cols);
  const W = cols * w + (cols - 1) * gap;
  const H = rows * h + (rows - 1) * gap;
  const out = new Uint8Array(W * H * 3).fill(255);
  images.forEach((img, i) => {
    const x0 = (i % cols) * (w + gap);
    const y0 = Math.floor(i / cols) * (h + gap);
    for (let y = 0; y < h; y++) {
      out.set(img.data.subarray(y * w * 3, (y + 1) * w * 3), ((y0 + y) * W + x0) * 3);
    }
  });
  return { width: W, height: H, data: out };
}

/** Encodes frames (all the same size) as a looping animated GIF or WebP, `delayMs` per frame. */
export async function encodeAnimation(
  frames: readonly Rgb8Image[],
  format: AnimationFormat,
  delayMs = 200,
): Promise<Buffer> {
  if (frames.length === 0) throw new RangeError('encodeAnimation needs at least one frame');
  const { width, height } = frames[0];
  // libvips reads a multi-page image as one tall image with a page height.
  const tall = Buffer.concat(frames.map((f) => f.data));
  const s = sharp(tall, { raw: { width, height: height * frames.length, channels: 3, pageHeight: height } });
  const delay = frames.map(() => delayMs);
  if (format === 'gif') return s.gif({ loop: 0, delay }).toBuffer();
  return s.webp({ loop: 0, delay, quality: WEBP_OPTIONS.quality }).toBuffer();
}

/** Decodes a PNG (or any sharp-readable image) to RGB8, for tests and tools. */
export async function decodeImage(bytes: Buffer): Promise<Rgb8Image> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
