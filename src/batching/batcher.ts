/**
 * The dynamic batcher: the loop around `SampleQueue` that decides when a batch goes to the engine
 * (Triton-style: a full batch at once, a partial one after `maxQueueDelayMs`), runs one engine call
 * at a time, and answers every request exactly once: results, OVERLOADED, DEADLINE_EXCEEDED,
 * CANCELLED, INTERNAL (engine failure) or UNAVAILABLE (closed).
 *
 * Admission is bounded by time as well as by count: from the engine time measured per batch it
 * predicts when a new request would start, and refuses at once (OVERLOADED, with a Retry-After
 * from the same prediction) a request that could not start within `maxQueueWaitMs` or whose
 * samples could not all start within its own timeout. Under overload the queue so holds only work that can still be answered in
 * time, instead of filling with requests whose clients have given up.
 */
import type { SpanContext } from '@opentelemetry/api';
import type { Engine, EngineBatch, EngineOutput } from '../engine/engine.js';
import { BigGanError, invalidArgument, quoteValue } from '../errors.js';
import { realClock, type Clock } from './clock.js';
import { EngineTimeModel } from './engine-time.js';
import { SampleQueue, PRIORITIES, type Priority, type QueuedSample } from './queue.js';
import { checkTruncation } from '../latents/truncation.js';

/** Batching settings, named after Triton's `dynamic_batching` and queue policy. */
export interface BatcherSettings {
  /** Most samples per engine call. */
  readonly maxBatchSize: number;
  /** How long (ms) a partial batch waits for more samples; 0 runs a lone sample at once. */
  readonly maxQueueDelayMs: number;
  /** Most samples waiting (not counting the running batch); beyond it submits fail OVERLOADED. */
  readonly maxQueueSize: number;
  /**
   * Most engine calls outstanding at once (Ray Serve's `max_concurrent_batches`); default 1.
   * With 2, a FULL batch is handed to the engine while the previous one still runs, so the engine
   * (which serialises calls) starts it the moment it is free instead of idling while results are
   * delivered and the next batch is formed. Partial batches still wait for an idle engine.
   */
  readonly maxConcurrentBatches?: number;
  /**
   * Most predicted wait (ms) before a new request starts in the engine (the backlog ahead of it;
   * its own samples' run time is not queueing); a request predicted to wait longer is refused at
   * once with OVERLOADED. Default Infinity (count only).
   * Until an engine time is known (measured, or primed with `primeEngineTime`) only the count
   * bound applies.
   */
  readonly maxQueueWaitMs?: number;
  /**
   * Without maxQueueWaitMs: the limit is this many full batches at the measured engine time (at
   * least MIN_QUEUE_WAIT_MS), so it fits the model (a 512 batch takes seconds, a 128 one less).
   */
  readonly queueWaitBatches?: number;
}

/** The floor of a queue-wait limit derived from the batch time, ms. */
export const MIN_QUEUE_WAIT_MS = 2000;

/** One sample to generate. */
export interface Sample {
  /** Latent [zDim], already scaled by the truncation. */
  readonly z: Float32Array;
  /** Class vector [numClasses]. */
  readonly classVector: Float32Array;
  /** Truncation in (0, 1]; samples of different truncations share a batch. */
  readonly truncation: number;
}

/** Per-request options of `submit`. */
export interface SubmitOptions {
  /** 'high' samples run before every queued 'normal' one; default 'normal'. */
  readonly priority?: Priority;
  /** Most time (ms) the request's samples may wait in the queue; running is never cut. Default: none. */
  readonly timeoutMs?: number;
  /** Aborting removes the request's queued samples and rejects it with CANCELLED. */
  readonly signal?: AbortSignal;
  /** The request's span (tracing): the batch span carrying its samples links to it. */
  readonly traceContext?: SpanContext | undefined;
}

/** A request accepted by `submit`. Its promises never cause unhandled rejections. */
export interface SubmittedRequest {
  readonly id: number;
  /** One per sample: that sample's NHWC [H, W, 3] tanh values, resolved when its batch finishes. */
  readonly results: Promise<Float32Array>[];
  /** All samples' results in submit order, or the request's error. */
  readonly done: Promise<Float32Array[]>;
}

/** Why a request was turned away, as reported to `BatcherObserver.onReject`. */
export type RejectReason = 'overload' | 'deadline' | 'cancelled';

/** Metrics hooks; every method is optional, and a throwing hook never disturbs the batcher. */
export interface BatcherObserver {
  /**
   * After every engine call (failed ones too): samples in it and its engine time in ms (from when
   * the engine could start it: a pipelined batch's wait behind the previous call is not counted).
   */
  onBatch?(batch: { size: number; durationMs: number }): void;
  /** Per sample, when its batch starts: time it spent queued, in ms. */
  onQueueWait?(ms: number): void;
  /** Whenever the number of queued samples changes. */
  onQueueDepth?(samples: number): void;
  /** Per request turned away. */
  onReject?(reason: RejectReason): void;
  /** After every change of state, once an engine time is known: predicted wait (ms) of a new 1-sample normal request. */
  onWaitEstimate?(ms: number): void;
}

/** A snapshot of the batcher's counters. */
export interface BatcherStats {
  /** Samples waiting. */
  readonly queued: number;
  /** Samples in the engine call now running (0 when idle). */
  readonly running: number;
  /** Engine calls made so far, failed ones included. */
  readonly batches: number;
  /** Samples sent to the engine so far. */
  readonly samples: number;
}

/**
 * Tracing hook: called as a batch starts with each traced request in it (its span, how long its
 * oldest sample here waited, ms, and its samples here); returns what ends the batch span.
 */
export type BatchTraceHook = (batch: {
  size: number;
  members: readonly { traceContext: SpanContext; queuedMs: number; samples: number }[];
}) => (error?: unknown) => void;

/** Optional collaborators of a `Batcher`. */
export interface BatcherOptions {
  readonly clock?: Clock;
  readonly observer?: BatcherObserver;
  readonly traceBatch?: BatchTraceHook;
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A caller may await only `done` or only some results; the others must not become unhandled
  // rejections. This handles the original promise; awaiting it still throws.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** The batcher's side of one request. */
interface RequestState {
  readonly id: number;
  /** Queue timeout in ms (Infinity for none), for the DEADLINE_EXCEEDED message. */
  readonly timeoutMs: number;
  readonly samples: Deferred<Float32Array>[];
  /** Result per sample index; undefined until its batch finishes. */
  readonly outputs: (Float32Array | undefined)[];
  readonly done: Deferred<Float32Array[]>;
  /** Samples without a result yet. */
  pending: number;
  /** Answered (all results, or an error); later results are discarded. */
  finished: boolean;
  /** Removes the abort listener. */
  detach?: () => void;
  /** The request's span, for the batch span's links. */
  traceContext?: SpanContext | undefined;
}

/** A queued sample with its payload. */
interface Item extends QueuedSample {
  readonly request: RequestState;
  /** Position of the sample in its request. */
  readonly index: number;
  readonly sample: Sample;
}

/** An engine call in flight. */
interface InFlightBatch {
  readonly size: number;
  /** When the batcher handed it to the engine (ms, clock time). */
  readonly startedAt: number;
}

/** Batches samples from concurrent requests into engine calls, one call at a time. */
export class Batcher {
  /** The settings in force (frozen). */
  readonly settings: BatcherSettings;
  private readonly engine: Engine;
  private readonly clock: Clock;
  private readonly observer: BatcherObserver | undefined;
  private readonly traceBatch: BatchTraceHook | undefined;
  private readonly queue = new SampleQueue<Item>();
  private nextId = 1;
  /** Samples in the engine calls in flight; 0 when idle. */
  private running = 0;
  /** Engine calls in flight, oldest first. The engine runs calls one at a time in this order. */
  private readonly inFlightBatches: InFlightBatch[] = [];
  private batches = 0;
  private samplesRun = 0;
  private readonly engineTime = new EngineTimeModel();
  /** When the last engine call ended (ms, clock time); a pipelined call starts no earlier. */
  private lastEngineEnd = -Infinity;
  private lastDepth = 0;
  private closed = false;
  private timer: unknown = undefined;
  /** When `timer` fires (ms, clock time); undefined when no timer is armed. */
  private timerAt: number | undefined = undefined;
  private drainWaiters: (() => void)[] = [];

  constructor(engine: Engine, settings: BatcherSettings, options: BatcherOptions = {}) {
    this.settings = Object.freeze(checkSettings(settings));
    this.engine = engine;
    this.clock = options.clock ?? realClock;
    this.observer = options.observer;
    this.traceBatch = options.traceBatch;
  }

  /** Samples waiting in the queue. */
  get queued(): number {
    return this.queue.size;
  }

  private get inFlight(): number {
    return this.inFlightBatches.length;
  }

  /**
   * Seeds the engine-time model before any batch ran, e.g. with the warm-up batch (slower than
   * later ones, so admission starts conservative); the first real batch replaces it.
   */
  primeEngineTime(size: number, ms: number): void {
    this.engineTime.prime(size, ms);
    this.reportEstimate(this.clock.now());
  }

  /**
   * Predicted wait (ms) before the last sample of a new request of `size` samples at `priority`
   * would start in the engine, assuming nothing else arrives (for 1 sample: the backlog);
   * undefined while no engine time is known.
   */
  estimateWaitMs(size = 1, priority: Priority = 'normal'): number | undefined {
    return this.predictStart(size - 1, priority, this.clock.now());
  }

  /** Counters: queued and running samples, engine calls and samples run so far. */
  stats(): BatcherStats {
    return { queued: this.queue.size, running: this.running, batches: this.batches, samples: this.samplesRun };
  }

  /**
   * Queues a request's samples. Throws INVALID_ARGUMENT for malformed samples, OVERLOADED when
   * they do not fit in the queue (nothing is queued) and UNAVAILABLE after `close()`. A request
   * already cancelled or past its deadline is returned rejected.
   */
  submit(samples: readonly Sample[], opts: SubmitOptions = {}): SubmittedRequest {
    if (this.closed) throw new BigGanError('UNAVAILABLE', 'the batcher is closed');
    this.checkRequest(samples, opts);
    const request = this.createRequest(samples.length, opts.timeoutMs ?? Infinity);
    request.traceContext = opts.traceContext;
    const view: SubmittedRequest = {
      id: request.id,
      results: request.samples.map((d) => d.promise),
      done: request.done.promise,
    };
    const { signal, timeoutMs } = opts;
    if (signal?.aborted) {
      this.reject(request, 'cancelled', cancelledError(request.id));
      return view;
    }
    if (timeoutMs !== undefined && timeoutMs <= 0) {
      this.reject(request, 'deadline', deadlineError(request.id, timeoutMs));
      return view;
    }
    const now = this.clock.now();
    const priority = opts.priority ?? 'normal';
    if (this.queue.size + samples.length > this.settings.maxQueueSize) {
      this.notify((o) => o.onReject?.('overload'));
      throw this.queueFull(samples.length, now);
    }
    const refusal = this.admit(samples.length, priority, timeoutMs, now);
    if (refusal === 'never') {
      // Its own samples alone need longer than its timeout: no retry can help.
      this.reject(
        request,
        'deadline',
        new BigGanError(
          'DEADLINE_EXCEEDED',
          `request ${request.id}: its ${samples.length} samples cannot all finish within its ${timeoutMs} ms timeout even on an idle engine`,
        ),
      );
      return view;
    }
    if (refusal) {
      this.notify((o) => o.onReject?.('overload'));
      throw refusal;
    }
    if (signal) {
      const onAbort = (): void => {
        this.reject(request, 'cancelled', cancelledError(request.id));
        this.pump(); // re-arm: the timer may have been set for this request's deadline or delay
      };
      signal.addEventListener('abort', onAbort, { once: true });
      request.detach = () => signal.removeEventListener('abort', onAbort);
    }
    const deadline = timeoutMs === undefined ? Infinity : now + timeoutMs;
    this.queue.append(
      samples.map((sample, index): Item => ({
        requestId: request.id,
        priority,
        enqueuedAt: now,
        deadline,
        request,
        index,
        sample,
      })),
    );
    this.depthChanged();
    this.pump();
    return view;
  }

  /** Resolves when nothing is queued or running (new submits may still arrive afterwards). */
  drain(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /**
   * Stops the batcher: later submits throw UNAVAILABLE, queued requests reject with UNAVAILABLE
   * and timers stop. A batch already running still finishes and answers its requests.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.disarm();
    const error = new BigGanError('UNAVAILABLE', 'the batcher is shutting down');
    for (const request of requestsOf(this.queue.removeAll())) this.finish(request, error);
    this.depthChanged();
    this.settleDrains();
  }

  private createRequest(size: number, timeoutMs: number): RequestState {
    return {
      id: this.nextId++,
      timeoutMs,
      samples: Array.from({ length: size }, () => deferred<Float32Array>()),
      outputs: new Array<Float32Array | undefined>(size).fill(undefined),
      done: deferred<Float32Array[]>(),
      pending: size,
      finished: false,
    };
  }

  /** Expires overdue requests, starts a batch if one is due and arms the next wake-up. */
  private pump(): void {
    if (!this.closed) {
      const now = this.clock.now();
      this.expire(this.queue.removeExpired(now));
      if (this.queue.size > 0 && this.inFlight === 0 && this.isDue(now)) this.startBatch(now);
      // Pipelining: a full batch may wait in the engine behind the running one.
      while (
        this.inFlight > 0 &&
        this.inFlight < (this.settings.maxConcurrentBatches ?? 1) &&
        this.queue.size >= this.settings.maxBatchSize
      ) {
        this.startBatch(now);
      }
      this.arm(now);
      this.reportEstimate(now);
    }
    this.settleDrains();
  }

  /** A batch is due when it is full or its oldest sample has waited maxQueueDelayMs. */
  private isDue(now: number): boolean {
    if (this.queue.size >= this.settings.maxBatchSize) return true;
    const oldest = this.queue.oldestEnqueuedAt();
    return oldest !== undefined && now - oldest >= this.settings.maxQueueDelayMs;
  }

  private startBatch(now: number): void {
    // A pipelined batch waits in the engine behind the calls in flight: a sample whose deadline
    // passes before the batch is predicted to end (start plus its run time) would be answered to a
    // client that has given up, so it expires now. (Once handed over, a batch cannot be taken back.)
    const startsAt = now + (this.inFlight > 0 ? (this.inFlightRemainingMs(now) ?? 0) : 0);
    const runMs = this.engineTime.batchMs(Math.max(1, Math.min(this.queue.size, this.settings.maxBatchSize))) ?? 0;
    const { batch, expired } = this.queue.nextBatch(this.settings.maxBatchSize, startsAt + runMs);
    this.expire(expired);
    this.depthChanged();
    if (batch.length === 0) return;
    this.running += batch.length;
    const entry: InFlightBatch = { size: batch.length, startedAt: now };
    this.inFlightBatches.push(entry);
    for (const item of batch) this.notify((o) => o.onQueueWait?.(now - item.enqueuedAt));
    void this.run(batch, entry, this.traceBatch ? this.startBatchSpan(batch, now, this.traceBatch) : undefined);
  }

  /** One engine call; never rejects, and always ends by taking the next batch. */
  private async run(items: Item[], entry: InFlightBatch, endSpan?: (error?: unknown) => void): Promise<void> {
    let output: EngineOutput | undefined;
    let failure: unknown;
    try {
      output = await this.engine.generate(buildBatch(items, this.engine));
      checkOutput(output, items.length);
    } catch (error) {
      failure = error;
    }
    const endedAt = this.clock.now();
    // The engine serialises calls: this one began when it was handed over or when the previous
    // one ended, whichever is later.
    const durationMs = endedAt - Math.max(entry.startedAt, this.lastEngineEnd);
    this.lastEngineEnd = Math.max(this.lastEngineEnd, endedAt);
    this.running -= items.length;
    this.inFlightBatches.splice(this.inFlightBatches.indexOf(entry), 1);
    this.batches += 1;
    this.samplesRun += items.length;
    if (failure === undefined) this.engineTime.record(items.length, durationMs); // a failure's time says nothing about throughput
    this.notify((o) => o.onBatch?.({ size: items.length, durationMs }));
    if (endSpan) guarded(() => endSpan(failure));
    if (output === undefined || failure !== undefined) {
      const message = failure instanceof Error ? failure.message : String(failure);
      const error = new BigGanError('INTERNAL', `engine failed: ${message}`, { cause: failure });
      for (const request of requestsOf(items)) this.finish(request, error);
      this.depthChanged(); // a failed request's samples still queued are gone too
    } else {
      this.deliver(items, output);
    }
    this.pump();
  }

  /** Calls the tracing hook with the traced requests in `items`; a throwing hook never disturbs the batcher. */
  private startBatchSpan(
    items: readonly Item[],
    now: number,
    hook: BatchTraceHook,
  ): ((error?: unknown) => void) | undefined {
    const members = new Map<RequestState, { traceContext: SpanContext; queuedMs: number; samples: number }>();
    for (const item of items) {
      const traceContext = item.request.traceContext;
      if (traceContext === undefined) continue;
      const m = members.get(item.request);
      if (m) {
        m.samples += 1;
        m.queuedMs = Math.max(m.queuedMs, now - item.enqueuedAt);
      } else members.set(item.request, { traceContext, queuedMs: now - item.enqueuedAt, samples: 1 });
    }
    let end: ((error?: unknown) => void) | undefined;
    guarded(() => (end = hook({ size: items.length, members: [...members.values()] })));
    return end;
  }

  /** Hands each sample its slice of the batch output; samples of finished requests are discarded. */
  private deliver(items: Item[], output: EngineOutput): void {
    const perSample = output.height * output.width * 3; // floats per [H, W, 3] image
    items.forEach((item, position) => {
      const request = item.request;
      if (request.finished) return; // cancelled or failed while running: discard
      // A view, not a copy: engines return a fresh buffer per call, so it is never overwritten.
      const image = output.data.subarray(position * perSample, (position + 1) * perSample);
      request.outputs[item.index] = image;
      request.samples[item.index].resolve(image);
      request.pending -= 1;
      if (request.pending === 0) {
        request.finished = true;
        request.detach?.();
        request.done.resolve(request.outputs as Float32Array[]);
      }
    });
  }

  /** Fails the requests of samples dropped at their deadline. */
  private expire(expired: Item[]): void {
    if (expired.length === 0) return;
    for (const request of requestsOf(expired)) {
      this.reject(request, 'deadline', deadlineError(request.id, request.timeoutMs));
    }
    this.depthChanged();
  }

  /** Fails a request for a reason the observer counts. */
  private reject(request: RequestState, reason: RejectReason, error: BigGanError): void {
    if (request.finished) return;
    this.finish(request, error);
    this.notify((o) => o.onReject?.(reason));
    this.depthChanged();
    this.settleDrains();
  }

  /** Answers a request with `error`: removes its queued samples, rejects every sample still pending. */
  private finish(request: RequestState, error: BigGanError): void {
    if (request.finished) return;
    request.finished = true;
    request.detach?.();
    this.queue.removeRequest(request.id);
    request.samples.forEach((d, i) => {
      if (request.outputs[i] === undefined) d.reject(error);
    });
    request.done.reject(error);
  }

  /** Keeps one timer at the next moment something must happen: a deadline, or a partial batch due. */
  private arm(now: number): void {
    let at = this.queue.earliestDeadline() ?? Infinity;
    const oldest = this.queue.oldestEnqueuedAt();
    if (this.inFlight === 0 && oldest !== undefined) at = Math.min(at, oldest + this.settings.maxQueueDelayMs);
    if (at === this.timerAt) return;
    this.disarm();
    if (at === Infinity) return;
    this.timerAt = at;
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = undefined;
        this.pump();
      },
      Math.max(0, at - now),
    );
  }

  private disarm(): void {
    if (this.timerAt === undefined) return;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = undefined;
  }

  private idle(): boolean {
    return this.queue.size === 0 && this.running === 0;
  }

  private settleDrains(): void {
    if (!this.idle() || this.drainWaiters.length === 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private depthChanged(): void {
    const depth = this.queue.size;
    if (depth === this.lastDepth) return;
    this.lastDepth = depth;
    this.notify((o) => o.onQueueDepth?.(depth));
  }

  /**
   * Predicted ms from `now` until each engine call ends: the calls in flight (in engine order),
   * then `queuedBatches` full batches from the queue. Undefined while no engine time is known.
   */
  private timeline(now: number, queuedBatches: number): number[] | undefined {
    const ends: number[] = [];
    let t = 0;
    for (const [i, b] of this.inFlightBatches.entries()) {
      const ms = this.engineTime.batchMs(b.size);
      if (ms === undefined) return undefined;
      // Only the oldest call runs; its elapsed engine time counts against its prediction. One
      // running past its prediction is taken to end now (the best guess left).
      t += i === 0 ? Math.max(0, ms - (now - Math.max(b.startedAt, this.lastEngineEnd))) : ms;
      ends.push(t);
    }
    if (queuedBatches > 0) {
      const fullMs = this.engineTime.batchMs(this.settings.maxBatchSize);
      if (fullMs === undefined) return undefined;
      for (let j = 0; j < queuedBatches; j++) ends.push((t += fullMs));
    }
    return ends;
  }

  /** Predicted ms until the engine is free of the calls in flight; undefined while unknown. */
  private inFlightRemainingMs(now: number): number | undefined {
    if (!this.engineTime.known) return undefined;
    return this.timeline(now, 0)?.at(-1) ?? 0;
  }

  /**
   * Predicted ms until sample `index` of a new request at `priority` starts in the engine: it
   * goes in queued batch j = floor((ahead + index) / maxBatchSize), counted from the queue head
   * as full batches, which starts when every call before it has ended.
   */
  private predictStart(index: number, priority: Priority, now: number): number | undefined {
    if (!this.engineTime.known) return undefined;
    const j = Math.floor((this.queue.aheadOf(priority) + index) / this.settings.maxBatchSize);
    return this.timeline(now, j)?.at(-1) ?? 0;
  }

  /**
   * Time-bounded admission of a request of `size` samples: undefined to accept it; OVERLOADED
   * when its first sample would wait longer than maxQueueWaitMs (the backlog) or its last sample
   * could not start within its timeout; 'never' when even an idle engine could not start all its
   * samples within its timeout. Accepts everything while no engine time is known.
   */
  private admit(
    size: number,
    priority: Priority,
    timeoutMs: number | undefined,
    now: number,
  ): BigGanError | 'never' | undefined {
    const firstMs = this.predictStart(0, priority, now);
    const lastMs = this.predictStart(size - 1, priority, now);
    if (firstMs === undefined || lastMs === undefined) return undefined;
    // The request's own timeout first (its Retry-After is the one this request needs), against its
    // predicted completion: the start of its last sample plus the run time of that sample's batch.
    const B = this.settings.maxBatchSize;
    const fullMs = this.engineTime.batchMs(B) ?? 0;
    // The last sample's batch as the queue stands: what is ahead of it in that batch, and itself.
    const doneMs = lastMs + (this.engineTime.batchMs(((this.queue.aheadOf(priority) + size - 1) % B) + 1) ?? fullMs);
    if (timeoutMs !== undefined && doneMs > timeoutMs) {
      // Never: its own samples alone (full batches, then its last partial one) take longer than its timeout.
      const own = Math.floor((size - 1) / B) * fullMs + (this.engineTime.batchMs(((size - 1) % B) + 1) ?? fullMs);
      if (own > timeoutMs) return 'never';
      return this.tooLong(doneMs, timeoutMs, `the request's timeout of ${timeoutMs} ms`, 'completion');
    }
    const maxWaitMs = this.maxQueueWaitMs();
    if (firstMs > maxWaitMs) return this.tooLong(firstMs, maxWaitMs, `the queue wait limit of ${maxWaitMs} ms`);
    return undefined;
  }

  /** The queue-wait limit in force: the setting, or queueWaitBatches full batches of measured engine time. */
  maxQueueWaitMs(): number {
    const { maxQueueWaitMs, queueWaitBatches, maxBatchSize } = this.settings;
    if (queueWaitBatches === undefined || Number.isFinite(maxQueueWaitMs)) return maxQueueWaitMs ?? Infinity;
    const fullMs = this.engineTime.batchMs(maxBatchSize);
    return fullMs === undefined ? Infinity : Math.max(MIN_QUEUE_WAIT_MS, Math.ceil(queueWaitBatches * fullMs));
  }

  private reportEstimate(now: number): void {
    if (this.observer?.onWaitEstimate === undefined) return;
    const ms = this.predictStart(0, 'normal', now);
    if (ms !== undefined) this.notify((o) => o.onWaitEstimate?.(ms));
  }

  /**
   * OVERLOADED for a full queue. Retry-After: predicted time until enough samples have left the
   * queue for this request to fit (a queued batch leaves when fewer than maxConcurrentBatches
   * calls are in flight), at least 1 s; 1 s while no engine time is known.
   */
  private queueFull(size: number, now: number): BigGanError {
    const { maxQueueSize, maxBatchSize } = this.settings;
    const message =
      size > maxQueueSize
        ? `request of ${size} samples exceeds the queue size ${maxQueueSize}`
        : `queue full (${this.queue.size} of ${maxQueueSize} samples waiting)`;
    const mustLeave = this.queue.size + size - maxQueueSize; // samples that must leave the queue first
    let ms = 0;
    if (size <= maxQueueSize) {
      const j = Math.floor((mustLeave - 1) / maxBatchSize); // the queued batch holding the last of them
      const ends = this.timeline(now, j);
      // Queued batch j is handed over when the call maxConcurrentBatches places before it ends.
      const before = this.inFlight + j - (this.settings.maxConcurrentBatches ?? 1);
      ms = ends === undefined || before < 0 ? 0 : ends[before];
    }
    return new BigGanError('OVERLOADED', message, { retryAfterSeconds: retryAfterSeconds(ms) });
  }

  /**
   * OVERLOADED for a request predicted to wait `waitMs` > `budgetMs`. Retry-After: when the
   * prediction falls to the budget if nothing else arrives, i.e. waitMs - budgetMs, at least 1 s.
   */
  private tooLong(waitMs: number, budgetMs: number, limit: string, what: 'wait' | 'completion' = 'wait'): BigGanError {
    const message = `overloaded: estimated ${what} ${Math.round(waitMs)} ms exceeds ${limit} (${this.queue.size} samples queued, ${this.running} running)`;
    return new BigGanError('OVERLOADED', message, { retryAfterSeconds: retryAfterSeconds(waitMs - budgetMs) });
  }

  private notify(call: (observer: BatcherObserver) => void): void {
    if (this.observer === undefined) return;
    try {
      call(this.observer);
    } catch (error) {
      // Metrics must never break serving; surface the bug without throwing into the loop.
      process.emitWarning(`batcher observer failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Rejects malformed samples here so they cannot fail the batch they would share with others. */
  private checkRequest(samples: readonly Sample[], opts: SubmitOptions): void {
    if (samples.length === 0) throw invalidArgument('samples', 'at least one sample is required');
    const { zDim, numClasses } = this.engine.config;
    samples.forEach((s, i) => {
      if (s.z.length !== zDim) throw invalidArgument(`samples[${i}].z`, `must have ${zDim} values, got ${s.z.length}`);
      if (s.classVector.length !== numClasses) {
        throw invalidArgument(
          `samples[${i}].classVector`,
          `must have ${numClasses} values, got ${s.classVector.length}`,
        );
      }
      checkTruncation(s.truncation, `samples[${i}].truncation`);
    });
    if (opts.timeoutMs !== undefined && Number.isNaN(opts.timeoutMs)) {
      throw invalidArgument('timeoutMs', 'must be a number of ms');
    }
    if (opts.priority !== undefined && !PRIORITIES.includes(opts.priority)) {
      throw invalidArgument('priority', `must be one of ${PRIORITIES.join(', ')}, got ${quoteValue(opts.priority)}`);
    }
  }
}

function checkSettings(s: BatcherSettings): BatcherSettings {
  const positiveInt = (key: 'maxBatchSize' | 'maxQueueSize'): number => {
    const v = s[key];
    if (!Number.isInteger(v) || v <= 0)
      throw new BigGanError('INVALID_CONFIG', `${key} must be a positive integer, got ${v}`);
    return v;
  };
  const maxBatchSize = positiveInt('maxBatchSize');
  const maxQueueSize = positiveInt('maxQueueSize');
  const maxQueueDelayMs = s.maxQueueDelayMs;
  if (!Number.isFinite(maxQueueDelayMs) || maxQueueDelayMs < 0) {
    throw new BigGanError('INVALID_CONFIG', `maxQueueDelayMs must be a finite number >= 0, got ${maxQueueDelayMs}`);
  }
  const maxConcurrentBatches = s.maxConcurrentBatches ?? 1;
  if (!Number.isInteger(maxConcurrentBatches) || maxConcurrentBatches < 1) {
    throw new BigGanError(
      'INVALID_CONFIG',
      `maxConcurrentBatches must be a positive integer, got ${maxConcurrentBatches}`,
    );
  }
  const maxQueueWaitMs = s.maxQueueWaitMs ?? Infinity;
  if (!(maxQueueWaitMs > 0))
    throw new BigGanError('INVALID_CONFIG', `maxQueueWaitMs must be > 0 (or Infinity), got ${maxQueueWaitMs}`);
  const batches = s.queueWaitBatches;
  if (batches !== undefined && !(batches > 0))
    throw new BigGanError('INVALID_CONFIG', `queueWaitBatches must be > 0, got ${batches}`);
  return {
    maxBatchSize,
    maxQueueDelayMs,
    maxQueueSize,
    maxConcurrentBatches,
    maxQueueWaitMs,
    ...(batches !== undefined ? { queueWaitBatches: batches } : {}),
  };
}

/** Retry-After in whole seconds (HTTP's unit), rounded up, at least 1. */
function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** Concatenates the samples into one engine batch: z [B, zDim], classVector [B, numClasses], truncation [B]. */
function buildBatch(items: readonly Item[], engine: Engine): EngineBatch {
  const { zDim, numClasses } = engine.config;
  const size = items.length;
  const z = new Float32Array(size * zDim);
  const classVector = new Float32Array(size * numClasses);
  // Float64 keeps the caller's truncation exact (it selects batch-norm statistics).
  const truncation = new Float64Array(size);
  items.forEach(({ sample }, b) => {
    z.set(sample.z, b * zDim);
    classVector.set(sample.classVector, b * numClasses);
    truncation[b] = sample.truncation;
  });
  return { size, z, classVector, truncation };
}

function checkOutput(output: EngineOutput, size: number): void {
  const expected = size * output.height * output.width * 3;
  if (output.size !== size || output.data.length !== expected) {
    throw new Error(
      `output of ${output.size} samples / ${output.data.length} values for a batch of ${size} (expected ${expected})`,
    );
  }
}

/** Runs a tracing hook; tracing must never break serving, so a failure becomes a warning. */
function guarded(call: () => void): void {
  try {
    call();
  } catch (error) {
    process.emitWarning(`batcher trace hook failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The distinct requests of some samples, in first-seen order. */
function requestsOf(items: readonly Item[]): RequestState[] {
  return [...new Set(items.map((item) => item.request))];
}

function cancelledError(id: number): BigGanError {
  return new BigGanError('CANCELLED', `request ${id} was cancelled`);
}

function deadlineError(id: number, timeoutMs: number): BigGanError {
  return new BigGanError('DEADLINE_EXCEEDED', `request ${id} did not start within its ${timeoutMs} ms queue timeout`);
}
