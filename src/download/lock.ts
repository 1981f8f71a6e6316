/**
 * A lock file that works across processes: `open(path, 'wx')` is atomic on local file systems,
 * so exactly one process creates it. It holds the holder's pid, host and start time; a lock
 * whose holder process is gone (same host, pid dead or reused) is stale and taken over. The
 * holder also touches the file every few seconds: a lock from another host (a cache on a volume
 * shared by several pods) cannot be checked by pid, so it is stale once it stops being touched.
 *
 * Why not a package: none is installed (proper-lockfile would fit; it judges staleness by mtime,
 * which needs a timer refreshing the file during a 1 GB transfer), and `flock` needs a native
 * addon. A pid check answers "is the holder alive" directly, with no refresh and no timeout.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { BigGanError } from '../errors.js';

/** Who holds a lock, as written in the lock file. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** Wall-clock start of the hold, ISO 8601 (for messages). */
  readonly since: string;
  /** The holder process's start time from /proc (clock ticks since boot), to tell a reused pid; absent off Linux. */
  readonly procStart?: string;
}

/** Options of `acquireLock`. */
export interface LockOptions {
  /** Called once when the lock is busy and we start waiting, with a description of the holder. */
  readonly onWait?: ((holder: string) => void) | undefined;
  /** Aborting stops the wait with a CANCELLED error. */
  readonly signal?: AbortSignal | undefined;
  /** How often a waiter looks again, in ms (default 250). */
  readonly pollMs?: number;
  /** How often the holder touches the lock file, in ms (default HEARTBEAT_MS). */
  readonly heartbeatMs?: number;
}

/** A held lock. */
export interface Lock {
  /** Deletes the lock file if it is still ours; safe to call twice. */
  release(): Promise<void>;
}

/** How often the holder touches its lock file, in ms. */
export const HEARTBEAT_MS = 15_000;
/** A lock from another host not touched for this long has lost its holder, in ms (clocks may differ a little). */
export const FOREIGN_STALE_MS = 120_000;

// A breaker file is held for a few ms while one process removes a stale lock; one older than
// this belongs to a process that died inside that window.
const BREAKER_STALE_MS = 10_000;

/** Takes the lock at `file`, waiting while a live process holds it and taking over a stale one. */
export async function acquireLock(file: string, opts: LockOptions = {}): Promise<Lock> {
  const me = selfHolder();
  const content = JSON.stringify(me);
  let announced = false;
  for (;;) {
    if (opts.signal?.aborted) throw new BigGanError('CANCELLED', `cancelled while waiting for the lock ${file}`);
    try {
      await fsp.writeFile(file, content, { flag: 'wx' });
      return ownedLock(file, content, opts.heartbeatMs ?? HEARTBEAT_MS);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw lockError('create', file, e);
    }
    const holder = await readHolder(file);
    if (holder === 'gone') continue; // released between our open and our read
    if (holder === 'unreadable' || (holder !== 'writing' && isStale(holder, holder.touchedMs))) {
      await breakStale(file, holder);
      continue;
    }
    if (holder !== 'writing' && !announced) {
      announced = true;
      opts.onWait?.(describeHolder(holder));
    }
    try {
      await sleep(opts.pollMs ?? 250, undefined, { signal: opts.signal });
    } catch {
      throw new BigGanError('CANCELLED', `cancelled while waiting for the lock ${file}`);
    }
  }
}

/** "pid 123 on host h since <time>". */
export function describeHolder(h: LockHolder): string {
  return `pid ${h.pid}${h.host === os.hostname() ? '' : ` on ${h.host}`} since ${h.since}`;
}

function ownedLock(file: string, content: string, heartbeatMs: number): Lock {
  let released = false;
  // unref: a forgotten lock must not keep the process alive; a dead process stops touching it.
  const heartbeat = setInterval(() => {
    const now = new Date();
    fsp.utimes(file, now, now).catch(() => undefined);
  }, heartbeatMs).unref();
  return {
    async release() {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      // Only our own lock: if it was (wrongly) broken and retaken, the new holder keeps it.
      const now = await fsp.readFile(file, 'utf8').catch(() => undefined);
      if (now === content) await fsp.rm(file, { force: true });
    },
  };
}

/** This process as a lock holder. */
function selfHolder(): LockHolder {
  const procStart = procStartTime(process.pid);
  return {
    pid: process.pid,
    host: os.hostname(),
    since: new Date().toISOString(),
    ...(procStart ? { procStart } : {}),
  };
}

/** A holder as read back, with when its file was last touched (ms since the epoch). */
type SeenHolder = LockHolder & { readonly touchedMs: number };

/** The holder; 'gone' (no file), 'writing' (empty and fresh: its creator is writing it), or 'unreadable' (garbage). */
async function readHolder(file: string): Promise<SeenHolder | 'gone' | 'writing' | 'unreadable'> {
  let text: string;
  let touchedMs: number;
  try {
    text = await fsp.readFile(file, 'utf8');
    touchedMs = (await fsp.stat(file)).mtimeMs;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw lockError('read', file, e);
  }
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === 'object' && v !== null && 'pid' in v && 'host' in v && 'since' in v) {
      const { pid, host, since } = v;
      const procStart = 'procStart' in v && typeof v.procStart === 'string' ? v.procStart : undefined;
      if (
        typeof pid === 'number' &&
        Number.isInteger(pid) &&
        pid > 0 &&
        typeof host === 'string' &&
        typeof since === 'string'
      ) {
        return { pid, host, since, touchedMs, ...(procStart ? { procStart } : {}) };
      }
    }
  } catch {
    // fall through
  }
  // Empty: its creator is writing it right now (a few bytes right after the create), unless
  // that was long ago and it died in between. Anything else garbled is not a lock we wrote.
  if (text === '' && Date.now() - touchedMs < 1000) return 'writing';
  return 'unreadable';
}

/**
 * Whether the holder process is certainly gone. For another host's lock the pid means nothing
 * here: it is stale when not touched (`touchedMs`, the file's mtime) for FOREIGN_STALE_MS.
 */
export function isStale(h: LockHolder, touchedMs: number = Date.now()): boolean {
  if (h.host !== os.hostname()) return Date.now() - touchedMs > FOREIGN_STALE_MS;
  if (!pidAlive(h.pid)) return true;
  // The pid is alive but may belong to a new process that reused it.
  if (h.procStart !== undefined) {
    const now = procStartTime(h.pid);
    if (now !== undefined && now !== h.procStart) return true;
  }
  return false;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Field 22 of /proc/<pid>/stat: the process start time in clock ticks since boot (Linux only). */
function procStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19]; // fields 3.. start at index 0, so field 22 is index 19
  } catch {
    return undefined;
  }
}

/**
 * Removes the stale lock `seen` (exported for tests). Two waiters can judge the same lock stale;
 * unlinking blindly could then delete the lock the faster one just created. So one breaker at a
 * time (`<file>.break`, 'wx'), and the lock is re-read under it and removed only if it is still
 * the stale one.
 */
export async function breakStale(file: string, seen: LockHolder | 'unreadable'): Promise<void> {
  const breaker = `${file}.break`;
  try {
    await fsp.writeFile(breaker, String(process.pid), { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw lockError('create', breaker, e);
    const st = await fsp.stat(breaker).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > BREAKER_STALE_MS) await fsp.rm(breaker, { force: true });
    else await sleep(20); // another process is breaking it right now; look again shortly
    return;
  }
  try {
    const now = await readHolder(file);
    const same =
      now === 'unreadable'
        ? seen === 'unreadable'
        : typeof now === 'object' &&
          typeof seen === 'object' &&
          now.pid === seen.pid &&
          now.since === seen.since &&
          now.host === seen.host &&
          isStale(now, now.touchedMs);
    if (same) await fsp.rm(file, { force: true });
  } finally {
    await fsp.rm(breaker, { force: true });
  }
}

function lockError(op: string, file: string, e: unknown): BigGanError {
  const err = e as NodeJS.ErrnoException;
  return new BigGanError('IO_ERROR', `cannot ${op} the lock file ${file}: ${err.code ?? 'error'} (${err.message})`, {
    cause: e,
  });
}
