/**
 * Download progress on stderr: a bar redrawn in place on a terminal, otherwise (logs, CI) one
 * line per 10%. `formatProgress` is the pure part; `createProgressReporter` decides when to draw.
 */
import { performance } from 'node:perf_hooks';
import type { DownloadProgress } from './download.js';

/** Where progress goes: process.stderr, or anything with `write` in tests. */
export interface ProgressSink {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;
/** Minimum ms between redraws on a terminal: faster is flicker and wasted writes. */
const REDRAW_MS = 100;
/** Without a known total, a log line every this many bytes. */
const UNKNOWN_TOTAL_STEP = 10 * MiB;

/** Byte counts in one unit chosen by the larger value, so `done/total` read alike. */
export function formatSizes(done: number, total: number | undefined): string {
  const ref = Math.max(done, total ?? 0);
  const [div, unit] = ref >= MiB ? [MiB, 'MiB'] : ref >= KiB ? [KiB, 'KiB'] : [1, 'B'];
  const f = (n: number) => (div === 1 ? String(n) : (n / div).toFixed(1));
  return total === undefined ? `${f(done)} ${unit}` : `${f(done)}/${f(total)} ${unit}`;
}

/** Seconds as m:ss or h:mm:ss. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Bytes per second as a rate, '--' when not yet known. */
export function formatSpeed(bytesPerSecond: number | undefined): string {
  if (bytesPerSecond === undefined || !Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) return '-- MiB/s';
  if (bytesPerSecond >= MiB) return `${(bytesPerSecond / MiB).toFixed(1)} MiB/s`;
  return `${(bytesPerSecond / KiB).toFixed(1)} KiB/s`;
}

/** One progress line: file, [bar,] percent, size done/total, speed and ETA (or total time when finished). */
export function formatProgress(p: DownloadProgress, barWidth = 0): string {
  if (p.phase === 'cached') return `${p.file}  ${formatSizes(p.bytesDone, undefined)}  already downloaded`;
  const seconds = p.elapsedMs / 1000;
  // Speed counts only this run's bytes: resumed ones arrived earlier.
  const fresh = p.bytesDone - p.resumedFrom;
  const speed = seconds > 0 && fresh > 0 ? fresh / seconds : undefined;
  const parts = [p.file];
  const total = p.bytesTotal;
  if (total !== undefined && total > 0) {
    const frac = Math.min(1, p.bytesDone / total);
    if (barWidth > 0) {
      const filled = Math.floor(frac * barWidth);
      parts.push(`[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]`);
    }
    parts.push(`${(frac * 100).toFixed(1).padStart(5)}%`);
  }
  parts.push(formatSizes(p.bytesDone, total), formatSpeed(speed));
  if (p.phase === 'done') parts.push(`done in ${formatDuration(seconds)}`);
  else if (total !== undefined && speed !== undefined)
    parts.push(`ETA ${formatDuration((total - p.bytesDone) / speed)}`);
  else parts.push('ETA --:--');
  return parts.join('  ');
}

/** A `downloadModel` progress callback; `end()` closes a bar left open by a failed transfer. */
export type ProgressReporter = ((p: DownloadProgress) => void) & { end(): void };

/** A progress callback for `downloadModel` that draws on `out` (default stderr). */
export function createProgressReporter(
  out: ProgressSink = process.stderr,
  now: () => number = () => performance.now(),
): ProgressReporter {
  let file = '';
  let lastDraw = -Infinity;
  let lastStep = -1;
  let open = false; // a TTY bar is on screen without its newline
  const report = (p: DownloadProgress): void => {
    if (p.file !== file) {
      file = p.file;
      lastDraw = -Infinity;
      lastStep = -1;
    }
    if (out.isTTY) {
      const t = now();
      if (p.phase === 'transfer' && t - lastDraw < REDRAW_MS) return;
      lastDraw = t;
      // The bar takes what the terminal width leaves, within 10..40 columns.
      const barWidth = Math.max(10, Math.min(40, (out.columns ?? 80) - formatProgress(p, 0).length - 4));
      const line = formatProgress(p, barWidth);
      out.write(`\r${line}\x1b[K${p.phase === 'transfer' ? '' : '\n'}`);
      open = p.phase === 'transfer';
      return;
    }
    if (p.phase !== 'transfer') {
      out.write(formatProgress(p) + '\n');
      return;
    }
    const step = p.bytesTotal
      ? Math.floor((10 * p.bytesDone) / p.bytesTotal)
      : Math.floor(p.bytesDone / UNKNOWN_TOTAL_STEP);
    // Step 10 (100%) is left to the 'done' line that follows.
    if (step > lastStep && !(p.bytesTotal && step >= 10)) {
      lastStep = step;
      out.write(formatProgress(p) + '\n');
    }
  };
  return Object.assign(report, {
    end(): void {
      if (open) out.write('\n');
      open = false;
    },
  });
}
