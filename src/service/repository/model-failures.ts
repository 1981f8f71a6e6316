/**
 * Models that cannot be served, and why, in words fit for clients.
 * - A folder that cannot be read as a model (truncated config.json, no weights, a dangling
 *   symlink) is a failed model: listed with its reason, answered 503, the others served.
 * - A model whose load failed is remembered: until its files change (size or mtime of the files in
 *   its folder) or a backoff passes (30 s, doubling up to 10 min), every request to it gets 503
 *   with the reason at once, without re-reading its weights, and the failure is logged once.
 * - Reasons never show server paths: the model's folder becomes the model's name and any other
 *   absolute path its last component (the full message goes to the log).
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { BigGanError } from '../../errors.js';
import type { ModelStatus } from '../types.js';

/** A model folder that could not be read (no ModelSource). */
export interface BrokenFolder {
  readonly name: string;
  /** For clients: no server paths. */
  readonly reason: string;
  /** For the log: the full message, paths included. */
  readonly detail: string;
}

/** `message` with server paths removed: `dir` (the model's folder) becomes `name`, other absolute paths their last part. */
export function publicReason(message: string, dir: string | undefined, name: string): string {
  let out = message;
  if (dir !== undefined) {
    const abs = path.resolve(dir);
    out = out.split(abs).join(name);
    if (dir !== abs) out = out.split(dir).join(name);
  }
  return out.replace(/(?<![\w.~-])\/(?:[^\s'"():,/]+\/)+([^\s'"():,/]+)/g, '$1');
}

/** Size and mtime of every file in `dir` (following links): changes when the folder's files change. */
export function folderFingerprint(dir: string): string {
  try {
    return readdirSync(dir)
      .sort()
      .map((n) => {
        try {
          const s = statSync(path.join(dir, n));
          return `${n}:${s.size}:${s.mtimeMs}`;
        } catch {
          return `${n}:missing`;
        }
      })
      .join('|');
  } catch (err) {
    return `unreadable:${(err as NodeJS.ErrnoException).code ?? ''}`;
  }
}

const FIRST_BACKOFF_MS = 30_000;
const MAX_BACKOFF_MS = 10 * 60_000;

interface Failure {
  readonly reason: string;
  readonly at: number;
  readonly backoffMs: number;
  readonly fingerprint: string;
}

/** Failed loads, remembered per model until the folder changes or the backoff passes. */
export class FailureMemory {
  private readonly failures = new Map<string, Failure>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Records a failed load of `name` (folder `dir`); each failure in a row doubles the backoff. */
  record(name: string, dir: string, reason: string): void {
    const last = this.failures.get(name);
    const backoffMs = last ? Math.min(MAX_BACKOFF_MS, last.backoffMs * 2) : FIRST_BACKOFF_MS;
    this.failures.set(name, { reason, at: this.now(), backoffMs, fingerprint: folderFingerprint(dir) });
  }

  /** Forgets `name`'s failures (after a successful load). */
  clear(name: string): void {
    this.failures.delete(name);
  }

  /** The 503 for a request to `name` while its failure holds; undefined when a new load may be tried. */
  refusal(name: string, dir: string): BigGanError | undefined {
    const f = this.failures.get(name);
    if (!f) return undefined;
    const left = f.at + f.backoffMs - this.now();
    if (left <= 0 || folderFingerprint(dir) !== f.fingerprint) return undefined;
    return unavailable(name, f.reason, Math.ceil(left / 1000));
  }
}

/** The 503 answer for a model that cannot be served. */
export function unavailable(name: string, reason: string, retryAfterSeconds?: number): BigGanError {
  return new BigGanError(
    'UNAVAILABLE',
    `model ${name} failed to load: ${reason}`,
    retryAfterSeconds !== undefined ? { retryAfterSeconds } : {},
  );
}

/**
 * The listing of a folder that could not be read: its name, `failed` and the reason. What its
 * config would say is unknown, so the numbers are 0 and the lists empty.
 */
export function brokenStatus(b: BrokenFolder, truncation: ModelStatus['truncation']): ModelStatus {
  return {
    name: b.name,
    resolution: 0,
    zDim: 0,
    numClasses: 0,
    parameters: 0,
    engine: '',
    backend: '',
    maxSamplesPerRequest: 0,
    maxBatchSize: 0,
    truncation,
    formats: [],
    state: 'failed',
    reason: b.reason,
    default: false,
    maxQueueDelayMs: 0,
    maxQueueSize: 0,
    servingFrom: 'default',
    memoryEstimateBytes: 0,
  };
}
