/**
 * SHA-256 of a model's files, streamed (a 512 model's weights are ~230 MB: never read whole into
 * memory). Computed once at load; the response cache's keys and ETags include it, so new weights
 * in the same folder never serve old images.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** Hex SHA-256 of the files' contents, in order, each preceded by its size (so boundaries count). */
export async function filesDigest(paths: readonly string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const p of paths) {
    let size = 0;
    const part = createHash('sha256');
    for await (const chunk of createReadStream(p, { highWaterMark: 1 << 20 })) {
      part.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    hash.update(`${size}:${part.digest('hex')}\n`);
  }
  return hash.digest('hex');
}
