/**
 * Progress of a dataset run: on a terminal a bar redrawn in place (images done / to do, images/s,
 * ETA); otherwise (logs of a Kubernetes pod) one line every `intervalMs`; and a summary at the end.
 */
import { formatDuration } from '../download/progress.js';

/** Where progress goes (process.stderr by default). */
export interface ProgressOut {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** Counts images and reports them. */
export interface DatasetProgress {
  add(images: number): void;
  /** Ends the bar and prints the summary line. */
  end(summary: { images: number; shards: number; bytes: number; skippedShards: number }): void;
}

/** `1.2 GB`-style sizes. */
function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}

/** A reporter for `total` images to make; `label` prefixes every line (e.g. `part 1/4`). */
export function createDatasetProgress(
  total: number,
  label: string,
  out: ProgressOut = process.stderr,
  intervalMs = 10_000,
  now = () => performance.now(),
): DatasetProgress {
  const t0 = now();
  let done = 0;
  let lastLog = t0;
  let lastDraw = 0;
  const line = () => {
    const seconds = (now() - t0) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = rate > 0 ? formatDuration((total - done) / rate) : '?';
    return {
      text: `${done}/${total} images, ${rate.toFixed(1)} images/s, ETA ${eta}`,
      fraction: total > 0 ? done / total : 1,
    };
  };
  return {
    add(images) {
      done += images;
      const t = now();
      if (out.isTTY) {
        if (t - lastDraw < 200 && done < total) return;
        lastDraw = t;
        const { text, fraction } = line();
        const width = 30;
        const filled = Math.round(fraction * width);
        out.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
      } else if (t - lastLog >= intervalMs) {
        lastLog = t;
        out.write(`${label}: ${line().text}\n`);
      }
    },
    end(s) {
      const seconds = (now() - t0) / 1000;
      if (out.isTTY) out.write('\n');
      const rate = seconds > 0 ? s.images / seconds : 0;
      const skipped = s.skippedShards > 0 ? ` (${s.skippedShards} finished shard(s) verified and kept)` : '';
      out.write(
        `${label}: wrote ${s.images} images in ${s.shards} shard(s), ${formatBytes(s.bytes)}, ${seconds.toFixed(1)} s, ${rate.toFixed(2)} images/s${skipped}\n`,
      );
    },
  };
}
