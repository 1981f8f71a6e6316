import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  createProgressReporter,
  formatDuration,
  formatProgress,
  formatSizes,
  formatSpeed,
} from '../../src/download/progress.js';
import type { DownloadProgress } from '../../src/download/download.js';

const MiB = 1024 * 1024;
const p = (over: Partial<DownloadProgress>): DownloadProgress => ({
  file: 'pytorch_model.bin',
  phase: 'transfer',
  bytesDone: 50 * MiB,
  bytesTotal: 200 * MiB,
  resumedFrom: 0,
  elapsedMs: 5000,
  ...over,
});

describe('formatting', () => {
  it('formats sizes in one unit chosen by the larger value', () => {
    assert.equal(formatSizes(50 * MiB, 200 * MiB), '50.0/200.0 MiB');
    assert.equal(formatSizes(300, 628), '300/628 B');
    assert.equal(formatSizes(512, 4096), '0.5/4.0 KiB');
    assert.equal(formatSizes(3 * MiB, undefined), '3.0 MiB');
  });

  it('formats durations and speeds', () => {
    assert.equal(formatDuration(0), '0:00');
    assert.equal(formatDuration(65.4), '1:05');
    assert.equal(formatDuration(3725), '1:02:05');
    assert.equal(formatSpeed(10 * MiB), '10.0 MiB/s');
    assert.equal(formatSpeed(512 * 1024 * 0.5), '256.0 KiB/s');
    assert.equal(formatSpeed(undefined), '-- MiB/s');
    assert.equal(formatSpeed(0), '-- MiB/s');
  });

  it('shows file, percent, sizes, speed and ETA', () => {
    // 50 MiB in 5 s = 10 MiB/s; 150 MiB left = 15 s.
    assert.equal(formatProgress(p({})), 'pytorch_model.bin   25.0%  50.0/200.0 MiB  10.0 MiB/s  ETA 0:15');
  });

  it('draws a bar of the given width', () => {
    assert.equal(
      formatProgress(p({}), 8),
      'pytorch_model.bin  [##------]   25.0%  50.0/200.0 MiB  10.0 MiB/s  ETA 0:15',
    );
  });

  it('counts only fresh bytes in the speed of a resumed download', () => {
    // 40 MiB resumed, 10 MiB new in 5 s = 2 MiB/s; 150 MiB left = 75 s.
    assert.equal(
      formatProgress(p({ resumedFrom: 40 * MiB })),
      'pytorch_model.bin   25.0%  50.0/200.0 MiB  2.0 MiB/s  ETA 1:15',
    );
  });

  it('handles an unknown total, no speed yet, done and cached', () => {
    assert.equal(formatProgress(p({ bytesTotal: undefined })), 'pytorch_model.bin  50.0 MiB  10.0 MiB/s  ETA --:--');
    assert.equal(
      formatProgress(p({ bytesDone: 0, elapsedMs: 0 })),
      'pytorch_model.bin    0.0%  0.0/200.0 MiB  -- MiB/s  ETA --:--',
    );
    assert.equal(
      formatProgress(p({ phase: 'done', bytesDone: 200 * MiB, elapsedMs: 20_000 })),
      'pytorch_model.bin  100.0%  200.0/200.0 MiB  10.0 MiB/s  done in 0:20',
    );
    assert.equal(
      formatProgress(p({ phase: 'cached', file: 'config.json', bytesDone: 628 })),
      'config.json  628 B  already downloaded',
    );
  });
});

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, out: { isTTY, columns: 100, write: (s: string) => chunks.push(s) } };
}

describe('createProgressReporter', () => {
  it('writes a line per 10% when stderr is not a terminal', () => {
    const { chunks, out } = sink(false);
    const report = createProgressReporter(out);
    for (let i = 1; i <= 100; i++) report(p({ bytesDone: 2 * MiB * i }));
    report(p({ phase: 'done', bytesDone: 200 * MiB }));
    // The first report (the transfer started), 10%..90% (100% is left to the done line), done.
    assert.equal(chunks.length, 11);
    assert.ok(chunks.every((c) => c.endsWith('\n') && !c.includes('\r')));
    assert.ok(chunks[0].startsWith('pytorch_model.bin    1.0%'), chunks[0]);
    assert.ok(chunks[1].startsWith('pytorch_model.bin   10.0%'), chunks[1]);
    assert.ok(chunks[9].startsWith('pytorch_model.bin   90.0%'), chunks[9]);
    assert.match(chunks[10], /done in/);
  });

  it('redraws one line in place on a terminal, at most every 100 ms', () => {
    const { chunks, out } = sink(true);
    let t = 0;
    const report = createProgressReporter(out, () => t);
    for (let i = 1; i <= 100; i++) {
      t += 10; // 1 s in all: ~10 redraws
      report(p({ bytesDone: 2 * MiB * i }));
    }
    report(p({ phase: 'done', bytesDone: 200 * MiB }));
    assert.ok(chunks.length >= 10 && chunks.length <= 12, `${chunks.length} writes`);
    assert.ok(chunks.every((c) => c.startsWith('\r')));
    assert.match(chunks[0], /\[#*-*\]/);
    assert.ok(chunks.at(-1)!.endsWith('\n'));
    assert.ok(chunks.slice(0, -1).every((c) => !c.endsWith('\n')));
  });

  it('closes an unfinished terminal line on end()', () => {
    const { chunks, out } = sink(true);
    const report = createProgressReporter(out, () => 0);
    report(p({}));
    report.end();
    report.end();
    assert.deepEqual(chunks.slice(1), ['\n']);
  });
});
