/**
 * Downloads a published BigGAN-deep model (config.json + pytorch_model.bin) into the cache:
 * resumable (`<file>.partial` + HTTP Range), size-checked, SHA-256-checked, fsynced and renamed
 * atomically, with a stall watchdog so a dead connection ends in an error instead of a hang.
 * One download per model folder at a time: a lock file makes a second run wait for the first.
 */
import { createHash } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { BigGanError } from '../errors.js';
import { parseConfig, presetConfig, PRESET_NAMES, type PresetName, type PublishedFileName } from '../model/config.js';
import { CONFIG_FILE, LOCK_FILE, modelDir, PARTIAL_SUFFIX, presetPins, WEIGHTS_FILE } from './cache.js';
import { acquireLock } from './lock.js';
import { checkCachedFile, checksumError, hashFileInto, quarantine, VERIFIED_SUFFIX, writeMarker } from './verify.js';

/** Where the PyTorch port's files live (`PRETRAINED_MODEL_ARCHIVE_MAP` / `PRETRAINED_CONFIG_ARCHIVE_MAP` in its model.py). */
export const DEFAULT_BASE_URL = 'https://s3.amazonaws.com/models.huggingface.co/biggan';
/** Milliseconds without a byte before a download is abandoned. */
export const DEFAULT_STALL_TIMEOUT_MS = 30_000;
/** Redirects followed per request before giving up. */
export const MAX_REDIRECTS = 5;

/** One progress report for the file being fetched. */
export interface DownloadProgress {
  /** Local file name, e.g. `pytorch_model.bin`. */
  readonly file: string;
  /** 'transfer' while bytes arrive, 'done' once renamed into place, 'cached' when it was already there. */
  readonly phase: 'transfer' | 'done' | 'cached';
  /** Bytes of the file on disk, resumed bytes included. */
  readonly bytesDone: number;
  /** Full size of the file, when the server said. */
  readonly bytesTotal: number | undefined;
  /** Bytes already on disk when this transfer started (so speed counts only new bytes). */
  readonly resumedFrom: number;
  /** Milliseconds since this transfer started. */
  readonly elapsedMs: number;
}

/** Options of `downloadModel`. */
export interface DownloadOptions {
  /** Cache folder; the model goes to `<cacheDir>/<name>/`. */
  readonly cacheDir: string;
  /** Base URL of the files; defaults to $BIGGAN_DOWNLOAD_BASE_URL, then `DEFAULT_BASE_URL`. */
  readonly baseUrl?: string;
  readonly onProgress?: (p: DownloadProgress) => void;
  /** Aborting cancels the transfer and keeps the `.partial` file for a later resume. */
  readonly signal?: AbortSignal;
  /** Abandon a connection that delivers no byte for this long (default 30 s). */
  readonly stallTimeoutMs?: number;
  /** SHA-256 (hex) each file must have, replacing the presets' pinned ones (a private mirror, tests). */
  readonly pins?: Partial<Record<PublishedFileName, string>>;
  /** Called once when another download of this model holds the cache entry and this one waits for it. */
  readonly onWait?: (holder: string) => void;
  /** Warnings (an unpinned file, a corrupt cached file fetched again); default: a line on stderr. */
  readonly onWarning?: (message: string) => void;
}

/** One file of a finished download. */
export interface DownloadedFile {
  readonly name: string;
  readonly path: string;
  readonly bytes: number;
  /** False when the file was already complete in the cache and nothing was fetched. */
  readonly fetched: boolean;
  /** SHA-256 (hex) of the file, hashed while it was downloaded or checked. */
  readonly sha256: string;
  /** Whether that hash was compared with a pinned one. */
  readonly pinned: boolean;
}

/** Result of `downloadModel`. */
export interface DownloadResult {
  readonly dir: string;
  readonly files: readonly DownloadedFile[];
}

/** The base URL to use: the explicit one, else $BIGGAN_DOWNLOAD_BASE_URL, else the default; validated. */
export function resolveBaseUrl(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  const raw = explicit || env.BIGGAN_DOWNLOAD_BASE_URL || DEFAULT_BASE_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new BigGanError('INVALID_ARGUMENT', `base-url: ${JSON.stringify(raw)} is not a valid URL`, {
      field: 'base-url',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new BigGanError(
      'INVALID_ARGUMENT',
      `base-url: must be an http:// or https:// URL, got ${JSON.stringify(raw)}`,
      { field: 'base-url' },
    );
  }
  return raw.replace(/\/+$/, '');
}

/** Downloads `<baseUrl>/<name>-config.json` and `<baseUrl>/<name>-pytorch_model.bin` into `<cacheDir>/<name>/`. */
export async function downloadModel(name: PresetName, opts: DownloadOptions): Promise<DownloadResult> {
  if (!PRESET_NAMES.includes(name)) {
    throw new BigGanError(
      'INVALID_ARGUMENT',
      `model: unknown model ${JSON.stringify(name)}; choose one of ${PRESET_NAMES.join(', ')}`,
      { field: 'model' },
    );
  }
  const base = resolveBaseUrl(opts.baseUrl);
  const stallTimeoutMs = opts.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  const dir = modelDir(opts.cacheDir, name);
  await disk('create folder', dir, () => fsp.mkdir(dir, { recursive: true }));
  if (opts.signal?.aborted) throw new BigGanError('CANCELLED', `download of ${name} cancelled`);
  const pins = { ...presetPins(name), ...opts.pins };
  const warn = opts.onWarning ?? ((m: string) => process.stderr.write(`biggan-serve: warning: ${m}\n`));
  const ctx: FetchContext = { onProgress: opts.onProgress, signal: opts.signal, stallTimeoutMs, warn, model: name };
  // Everything below reads or writes the model folder: one process at a time, or a second run's
  // resume would append to the file the first one is finishing (and has maybe renamed already).
  const lock = await acquireLock(path.join(dir, LOCK_FILE), { onWait: opts.onWait, signal: opts.signal });
  try {
    const files: DownloadedFile[] = [];
    // Config first: it is tiny, and validating it catches a wrong base URL before a 200 MB transfer.
    const configUrl = `${base}/${name}-config.json`;
    files.push(
      await ensureFile(configUrl, path.join(dir, CONFIG_FILE), pins[CONFIG_FILE], ctx, (f) =>
        verifyConfig(f, name, configUrl),
      ),
    );
    files.push(
      await ensureFile(`${base}/${name}-pytorch_model.bin`, path.join(dir, WEIGHTS_FILE), pins[WEIGHTS_FILE], ctx),
    );
    return { dir, files };
  } finally {
    await lock.release();
  }
}

interface FetchContext {
  readonly onProgress: ((p: DownloadProgress) => void) | undefined;
  readonly signal: AbortSignal | undefined;
  readonly stallTimeoutMs: number;
  readonly warn: (message: string) => void;
  readonly model: PresetName;
}

/**
 * Fetches `url` to `dest` unless `dest` is already there and intact; `pin` is the SHA-256 it
 * must have (undefined: unpinned), `verify` vets the bytes further before the rename.
 */
async function ensureFile(
  url: string,
  dest: string,
  pin: string | undefined,
  ctx: FetchContext,
  verify?: (file: string) => Promise<void>,
): Promise<DownloadedFile> {
  const name = path.basename(dest);
  const partial = dest + PARTIAL_SUFFIX;
  const existing = await fileSize(dest);
  // An empty file is what a crash between create and write leaves: it counts as missing.
  if (existing !== undefined && existing > 0) {
    // Always rehashed here (never the marker's word): `download` is the command that checks a cache in full.
    const check = await disk('check', dest, () => checkCachedFile(dest, pin, { trustMarker: false }));
    if (!check.ok) {
      const aside = await disk('move aside', dest, () => quarantine(dest));
      ctx.warn(checksumError(dest, check.expected, check.actual, `moved it to ${aside}, downloading it again`).message);
    } else {
      // A cached config that no longer parses is fetched again rather than trusted.
      const valid =
        verify === undefined ||
        (await verify(dest).then(
          () => true,
          (e: unknown) => rethrowUnless(e, 'INVALID_CONFIG'),
        ));
      if (valid) {
        await removeFile(partial); // a leftover from an older run would make the model look unfinished
        if (pin === undefined)
          warnUnpinned(
            ctx,
            name,
            check.sha256,
            check.compared ? 'checked against the hash recorded when it was downloaded' : 'nothing to check it against',
          );
        ctx.onProgress?.({
          file: name,
          phase: 'cached',
          bytesDone: existing,
          bytesTotal: existing,
          resumedFrom: existing,
          elapsedMs: 0,
        });
        return { name, path: dest, bytes: existing, fetched: false, sha256: check.sha256, pinned: pin !== undefined };
      }
      await removeFile(dest);
      await removeFile(dest + VERIFIED_SUFFIX);
    }
  }
  if (ctx.signal?.aborted) throw new BigGanError('CANCELLED', `download of ${url} cancelled`);
  const clock: TransferClock = { started: performance.now(), resumedFrom: (await fileSize(partial)) ?? 0 };
  let sha256: string;
  for (let attempt = 0; ; attempt++) {
    const start = (await fileSize(partial)) ?? 0;
    const outcome = await transfer(url, partial, start, clock, ctx);
    if (outcome !== 'restart') {
      sha256 = outcome.sha256;
      break;
    }
    // The server answered the range request in a way we cannot append to: start over, once.
    if (attempt > 0)
      throw new BigGanError(
        'IO_ERROR',
        `${url}: the server keeps answering range requests inconsistently; delete ${partial} and try again`,
      );
    await removeFile(partial);
    clock.resumedFrom = 0;
  }
  if (pin !== undefined && sha256 !== pin) {
    await removeFile(partial);
    throw checksumError(
      dest,
      pin,
      sha256,
      `downloaded from ${url}; deleted the download (a corrupt transfer, or the server holds another file)`,
    );
  }
  if (verify) {
    try {
      await verify(partial);
    } catch (e) {
      await removeFile(partial);
      if (e instanceof BigGanError)
        throw new BigGanError(e.code, `${e.message} (the downloaded file was deleted)`, { cause: e });
      throw e;
    }
  }
  // The marker goes first: whenever `dest` exists, its marker does too (a rename keeps the
  // inode and mtime the marker records), so a start-up check never has to rehash a fresh download.
  await disk('record the hash of', partial, () => writeMarker(partial, sha256, pin !== undefined, dest));
  await disk('rename', partial, () => fsp.rename(partial, dest));
  await syncDir(path.dirname(dest));
  const bytes = (await fileSize(dest)) ?? 0;
  if (pin === undefined) warnUnpinned(ctx, name, sha256, 'recorded now; later checks compare with it');
  ctx.onProgress?.({
    file: name,
    phase: 'done',
    bytesDone: bytes,
    bytesTotal: bytes,
    resumedFrom: clock.resumedFrom,
    elapsedMs: performance.now() - clock.started,
  });
  return { name, path: dest, bytes, fetched: true, sha256, pinned: pin !== undefined };
}

function warnUnpinned(ctx: FetchContext, file: string, sha256: string, how: string): void {
  ctx.warn(
    `${file} of ${ctx.model} has no pinned SHA-256, so it cannot be checked against the published file; its SHA-256 is ${sha256} (${how})`,
  );
}

/** Returns false for a BigGanError of `code`; rethrows anything else. */
function rethrowUnless(e: unknown, code: BigGanError['code']): false {
  if (e instanceof BigGanError && e.code === code) return false;
  throw e;
}

/** When a file's transfer began and how many bytes it started with (for speed and ETA). */
interface TransferClock {
  readonly started: number;
  resumedFrom: number;
}

/**
 * One HTTP transfer into `partial`, resuming from `start` bytes. 'restart' means the server's
 * answer cannot be appended to what is on disk and the caller should start from zero.
 */
async function transfer(
  url: string,
  partial: string,
  start: number,
  clock: TransferClock,
  ctx: FetchContext,
): Promise<{ sha256: string } | 'restart'> {
  const file = path.basename(partial, PARTIAL_SUFFIX);
  const watch = new StallWatch(ctx.stallTimeoutMs);
  let res: http.IncomingMessage | undefined;
  let finalUrl = url;
  let done = start;
  try {
    ({ res, url: finalUrl } = await openResponse(url, start > 0 ? { Range: `bytes=${start}-` } : {}, ctx, watch));
    const status = res.statusCode ?? 0;
    let total: number | undefined;
    let flags: 'a' | 'w';
    if (status === 416) {
      // Nothing past `start`: the partial is complete if it matches the total the server reports.
      res.resume();
      const range = parseContentRange(res.headers['content-range']);
      if (start === 0 || range?.total !== start) return 'restart';
      // Its bytes came in an earlier run that may have died before its fsync.
      await syncFile(partial);
      const whole = createHash('sha256');
      await disk('read', partial, () => hashFileInto(partial, whole));
      return { sha256: whole.digest('hex') };
    } else if (status === 206) {
      const range = parseContentRange(res.headers['content-range']);
      if (range === undefined || range.start !== start) {
        res.resume();
        return 'restart';
      }
      total = range.total;
      flags = 'a';
    } else if (status === 200) {
      // A 200 to a range request means the server ignored the range: the body is the whole file.
      total = contentLength(res);
      flags = 'w';
      done = 0;
      clock.resumedFrom = 0;
    } else {
      res.resume();
      throw httpError(url, finalUrl, status, res.statusMessage);
    }
    // The hash covers the whole file: the bytes resumed from an earlier run are read back and
    // hashed first (they may be what went wrong), then every byte as it arrives.
    const hash = createHash('sha256');
    if (flags === 'a') await disk('read', partial, () => hashFileInto(partial, hash, start));
    const fh = await disk('open', partial, () => fsp.open(partial, flags));
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        watch.kick();
        hash.update(chunk);
        await writeAll(fh, chunk, partial);
        done += chunk.length;
        if (total !== undefined && done > total) {
          await fh.close().catch(() => undefined);
          await removeFile(partial);
          throw new BigGanError(
            'IO_ERROR',
            `${finalUrl} sent more than the ${total} bytes it announced; deleted ${partial}, try again`,
          );
        }
        ctx.onProgress?.({
          file,
          phase: 'transfer',
          bytesDone: done,
          bytesTotal: total,
          resumedFrom: clock.resumedFrom,
          elapsedMs: performance.now() - clock.started,
        });
      }
      watch.stop();
      if (total !== undefined && done !== total) {
        throw new BigGanError(
          'IO_ERROR',
          `${finalUrl} ended after ${mib(done)} of ${mib(total)} MiB; run the command again to resume`,
        );
      }
      // The rename that follows must never expose a file whose bytes are not on disk yet.
      await disk('sync', partial, () => fh.sync());
    } finally {
      await fh.close().catch(() => undefined);
    }
    return { sha256: hash.digest('hex') };
  } catch (e) {
    throw networkError(e, url, finalUrl, { watch, signal: ctx.signal, gotResponse: res !== undefined, done });
  } finally {
    watch.stop();
    res?.destroy();
  }
}

/** Aborts the current request when no byte arrives for `ms`. */
class StallWatch {
  fired = false;
  private timer: NodeJS.Timeout | undefined;
  private req: http.ClientRequest | undefined;
  constructor(readonly ms: number) {}
  /** Watches a new request (redirects start new ones). */
  watch(req: http.ClientRequest): void {
    this.req = req;
    this.kick();
  }
  kick(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.fired = true;
      this.req?.destroy();
    }, this.ms);
  }
  stop(): void {
    clearTimeout(this.timer);
  }
}

/** GETs `url`, following up to MAX_REDIRECTS redirects; resolves with the first non-redirect response. */
async function openResponse(
  url: string,
  headers: Record<string, string>,
  ctx: FetchContext,
  watch: StallWatch,
): Promise<{ res: http.IncomingMessage; url: string }> {
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    const res = await getOnce(current, headers, ctx, watch);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (![301, 302, 303, 307, 308].includes(status) || !location) return { res, url: current.href };
    res.resume();
    if (hop >= MAX_REDIRECTS)
      throw new BigGanError('IO_ERROR', `${url}: too many redirects (more than ${MAX_REDIRECTS}), last to ${location}`);
    current = new URL(location, current);
    if (current.protocol !== 'http:' && current.protocol !== 'https:') {
      throw new BigGanError('IO_ERROR', `${url}: redirected to an unsupported URL ${current.href}`);
    }
  }
}

function getOnce(
  url: URL,
  headers: Record<string, string>,
  ctx: FetchContext,
  watch: StallWatch,
): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(url, {
      method: 'GET',
      // No compression: byte ranges and Content-Length must refer to the file itself.
      headers: { ...headers, 'Accept-Encoding': 'identity', 'User-Agent': 'biggan-serve' },
      // A fresh connection per request: no idle keep-alive socket holds the process open afterwards.
      agent: false,
      signal: ctx.signal,
    });
    watch.watch(req);
    req.once('response', resolve);
    req.on('error', reject); // stays attached: later socket errors surface through the response
    req.end();
  });
}

// Codes that mean "never got a connection": offline, DNS, refused, unroutable.
const UNREACHABLE = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NODATA',
  'ECONNREFUSED',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'ETIMEDOUT',
  'EADDRNOTAVAIL',
]);

/** Turns whatever a transfer threw into a BigGanError that says what happened and what to do. */
function networkError(
  e: unknown,
  url: string,
  finalUrl: string,
  s: { watch: StallWatch; signal: AbortSignal | undefined; gotResponse: boolean; done: number },
): BigGanError {
  if (s.signal?.aborted)
    return new BigGanError(
      'CANCELLED',
      `download of ${url} cancelled after ${mib(s.done)} MiB; run the command again to resume`,
      { cause: e },
    );
  if (e instanceof BigGanError) return e;
  const host = new URL(finalUrl).host;
  if (s.watch.fired) {
    return new BigGanError(
      'IO_ERROR',
      `${finalUrl}: no data from ${host} for ${s.watch.ms / 1000} s, the connection stalled` +
        (s.gotResponse ? ` after ${mib(s.done)} MiB; run the command again to resume` : ''),
      { cause: e },
    );
  }
  const code = (e as NodeJS.ErrnoException | undefined)?.code ?? 'UNKNOWN';
  if (!s.gotResponse && UNREACHABLE.has(code)) {
    return new BigGanError(
      'IO_ERROR',
      `cannot reach ${host} (${code}): check your network, or use --weights DIR with files you copied, or \`biggan-serve init-random\` for a random-weight model`,
      { cause: e },
    );
  }
  const detail = e instanceof Error ? e.message : String(e);
  if (s.gotResponse)
    return new BigGanError(
      'IO_ERROR',
      `${finalUrl}: connection lost after ${mib(s.done)} MiB (${code}: ${detail}); run the command again to resume`,
      { cause: e },
    );
  return new BigGanError('IO_ERROR', `${finalUrl}: request failed (${code}: ${detail})`, { cause: e });
}

function httpError(url: string, finalUrl: string, status: number, statusMessage: string | undefined): BigGanError {
  const hint =
    status === 404
      ? ': no such file there; check --base-url / BIGGAN_DOWNLOAD_BASE_URL'
      : status === 401 || status === 403
        ? ': access denied by the server'
        : status >= 500
          ? ': server error, try again later'
          : '';
  const via = finalUrl === url ? '' : ` (redirected from ${url})`;
  return new BigGanError(
    'IO_ERROR',
    `${finalUrl}${via}: HTTP ${status}${statusMessage ? ' ' + statusMessage : ''}${hint}`,
  );
}

/** Parses `bytes a-b/total` (or `bytes *` + `/total` for a 416); total undefined when the server wrote `*`. */
function parseContentRange(
  header: string | undefined,
): { start: number | undefined; total: number | undefined } | undefined {
  const m = /^bytes (?:(\d+)-\d+|\*)\/(\d+|\*)$/.exec(header?.trim() ?? '');
  if (!m) return undefined;
  return { start: m[1] === undefined ? undefined : Number(m[1]), total: m[2] === '*' ? undefined : Number(m[2]) };
}

function contentLength(res: http.IncomingMessage): number | undefined {
  const v = res.headers['content-length'];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** Checks a downloaded config.json parses and describes the model that was asked for. */
async function verifyConfig(file: string, name: PresetName, url: string): Promise<void> {
  const text = await disk('read', file, () => fsp.readFile(file, 'utf8'));
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new BigGanError('INVALID_CONFIG', `${url} is not valid JSON (${(e as Error).message})`);
  }
  let outputDim: number;
  try {
    outputDim = parseConfig(raw).outputDim;
  } catch (e) {
    if (e instanceof BigGanError)
      throw new BigGanError('INVALID_CONFIG', `${url} is not a valid BigGAN-deep config: ${e.message}`, { cause: e });
    throw e;
  }
  // A wrong base URL or a mixed-up mirror could serve another resolution's config.
  const want = presetConfig(name).outputDim;
  if (outputDim !== want)
    throw new BigGanError('INVALID_CONFIG', `${url} describes a ${outputDim} px model, but ${name} is ${want} px`);
}

/** Runs a file-system operation, turning its failure into an IO_ERROR naming the path. */
async function disk<T>(op: string, file: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw diskError(op, file, e);
  }
}

function diskError(op: string, file: string, e: unknown): BigGanError {
  const err = e as NodeJS.ErrnoException;
  return new BigGanError(
    'IO_ERROR',
    `cannot ${op} ${file}: ${err.code ?? 'error'}${err.code === 'ENOSPC' ? ' (disk full)' : ''} (${err.message})`,
    { cause: e },
  );
}

async function writeAll(fh: fsp.FileHandle, chunk: Buffer, file: string): Promise<void> {
  let off = 0;
  while (off < chunk.length) {
    const { bytesWritten } = await disk('write', file, () => fh.write(chunk, off, chunk.length - off));
    off += bytesWritten;
  }
}

async function fileSize(file: string): Promise<number | undefined> {
  try {
    const st = await fsp.stat(file);
    return st.isFile() ? st.size : undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw diskError('stat', file, e);
  }
}

async function removeFile(file: string): Promise<void> {
  await disk('delete', file, () => fsp.rm(file, { force: true }));
}

/** Flushes a file's bytes to disk. */
async function syncFile(file: string): Promise<void> {
  const fh = await disk('open', file, () => fsp.open(file, 'r+'));
  try {
    await disk('sync', file, () => fh.sync());
  } finally {
    await fh.close();
  }
}

/** Makes the rename itself durable; some platforms cannot fsync a folder, which is harmless. */
async function syncDir(dir: string): Promise<void> {
  try {
    const dh = await fsp.open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch {
    // best effort
  }
}

function mib(bytes: number): string {
  return (bytes / 1048576).toFixed(1);
}
