/**
 * Test harness for the gRPC adapter: a fake RequestService and Catalog (deterministic bytes, records the
 * requests and CallContexts it gets, can be held, failed or made unready) and a real server on
 * 127.0.0.1 port 0 with a real @grpc/grpc-js client.
 */
import * as grpc from '@grpc/grpc-js';
import type {
  CacheKeys,
  CallContext,
  Catalog,
  ClassInfo,
  GenerateRequest,
  GenerateResult,
  InterpolateRequest,
  InterpolateResult,
  InterpolationFrame,
  ModelInfo,
  ModelStatus,
  RequestService,
} from '../../../src/service/types.js';
import {
  createGrpcServer,
  createGeneratorClient,
  type GrpcServer,
  type GrpcServerOptions,
  type GeneratorClient,
} from '../../../src/transport/grpc/server.js';
import type { GenerateResponseMessage, FrameMessage } from '../../../src/transport/grpc/codec.js';
import type { GenerateRequestInput, InterpolateRequestInput } from '../../../src/transport/grpc/proto.js';

/** A small model: 4-long z rows, 6 classes; `parameters` above 2^32 to exercise uint64. */
export const FAKE_MODEL: ModelInfo = Object.freeze({
  name: 'fake-biggan-128',
  resolution: 128,
  zDim: 4,
  numClasses: 6,
  parameters: 123_456_789_012,
  engine: 'fake',
  backend: 'none',
  maxSamplesPerRequest: 16,
  maxBatchSize: 8,
  truncation: { min: 0, max: 1, default: 0.4 },
  formats: ['png', 'jpeg', 'webp'],
});

/** One call as the fake service saw it. */
export interface RecordedCall {
  readonly method: 'generate' | 'interpolate';
  readonly req: GenerateRequest | InterpolateRequest;
  readonly ctx: CallContext;
}

/** Resolves true when `signal` aborts, false after `ms`. */
export function abortedWithin(signal: AbortSignal | undefined, ms: number): Promise<boolean> {
  if (!signal) return Promise.resolve(false);
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      { once: true },
    );
  });
}

/** A RequestService and Catalog that answers deterministic bytes and records what it got. */
export class FakeService implements RequestService, Catalog {
  readonly calls: RecordedCall[] = [];
  /** Thrown by the next generate / interpolate calls (after `hold`). */
  failWith: unknown;
  /** Awaited before answering, e.g. to keep a call in flight until its signal aborts. */
  hold: ((ctx: CallContext) => Promise<void>) | undefined;
  /** Awaited before each interpolation frame after the first. */
  beforeFrame: ((index: number) => Promise<void>) | undefined;

  /** Forgets recorded calls and clears every test hook (between tests). */
  reset(): void {
    this.failWith = undefined;
    this.hold = undefined;
    this.beforeFrame = undefined;
    this.calls.length = 0;
  }
  private ready = true;
  private readonly listeners: ((ready: boolean) => void)[] = [];
  private readonly callWaiters: ((call: RecordedCall) => void)[] = [];

  isReady(): boolean {
    return this.ready;
  }

  accepting(): boolean {
    return this.ready;
  }

  /** The one fake model, whatever the name. */
  modelInfo(): ModelInfo {
    return FAKE_MODEL;
  }

  listModels(): readonly ModelStatus[] {
    return [
      {
        ...FAKE_MODEL,
        state: 'ready',
        default: true,
        maxQueueDelayMs: 0,
        maxQueueSize: 0,
        servingFrom: 'default',
        memoryEstimateBytes: 0,
      },
    ];
  }

  modelLabel(): string {
    return FAKE_MODEL.name;
  }

  onReadinessChange(listener: (ready: boolean) => void): void {
    this.listeners.push(listener);
  }

  /** Flips readiness and tells the listeners, as GenerationService does when it drains. */
  setReady(ready: boolean): void {
    this.ready = ready;
    for (const l of this.listeners) l(ready);
  }

  /** Resolves with the next call that reaches the service. */
  nextCall(): Promise<RecordedCall> {
    return new Promise((resolve) => this.callWaiters.push(resolve));
  }

  private async record(method: RecordedCall['method'], req: RecordedCall['req'], ctx: CallContext): Promise<void> {
    const call = { method, req, ctx };
    this.calls.push(call);
    for (const w of this.callWaiters.splice(0)) w(call);
    await this.hold?.(ctx);
    if (this.failWith !== undefined) throw this.failWith;
  }

  async generate(req: GenerateRequest, ctx: CallContext): Promise<GenerateResult> {
    await this.record('generate', req, ctx);
    const n = req.count ?? (Array.isArray(req.z) ? req.z.length : Array.isArray(req.class) ? req.class.length : 1);
    const seed = req.z !== undefined ? undefined : req.seed === undefined ? 42n : BigInt(req.seed);
    const images = Array.from({ length: n }, (_, i) => ({
      data: Buffer.from(`image ${i}`),
      mimeType: 'image/png',
      ...(seed !== undefined ? { seed: BigInt.asUintN(64, seed + BigInt(i)) } : {}),
      truncation: req.truncation ?? 0.4,
      class: { '207': 0.75, '3': 0.25 },
      index: i,
    }));
    const size = { width: 128, height: 128, ...(seed !== undefined ? { seed } : {}) };
    if (req.grid) return { images: [], grid: { data: Buffer.from('grid image'), mimeType: 'image/png' }, ...size };
    return { images, ...size };
  }

  async interpolate(
    req: InterpolateRequest,
    ctx: CallContext,
    onFrame?: (frame: InterpolationFrame) => void,
  ): Promise<InterpolateResult> {
    await this.record('interpolate', req, ctx);
    const n = req.frames ?? 3;
    const frames: InterpolationFrame[] = [];
    for (let i = 0; i < n; i++) {
      if (i > 0) await this.beforeFrame?.(i);
      const frame = {
        data: Buffer.from(`frame ${i}`),
        mimeType: 'image/png',
        truncation: 0.5,
        class: { '1': 1 - i / (n - 1) },
        index: i,
        t: i / (n - 1),
        ...(i === 0 ? { seed: 5n } : {}),
      };
      frames.push(frame);
      onFrame?.(frame);
    }
    const animated = req.format === undefined || req.format === 'gif';
    return {
      frames,
      ...(animated ? { animation: { data: Buffer.from('GIF89a'), mimeType: 'image/gif' } } : {}),
      width: 128,
      height: 128,
    };
  }

  /** Cache identity as the fake answers it: never cacheable, forms from the request's shape. */
  generateKeys(req: GenerateRequest): CacheKeys {
    const count = req.count ?? (Array.isArray(req.z) ? req.z.length : Array.isArray(req.class) ? req.class.length : 1);
    return { cacheable: false, response: 'fake', count, mimeType: 'image/png', combined: req.grid === true };
  }

  interpolateKeys(req: InterpolateRequest): CacheKeys {
    const animated = req.format === undefined || req.format === 'gif';
    return {
      cacheable: false,
      response: 'fake',
      count: req.frames ?? 3,
      mimeType: animated ? 'image/gif' : 'image/png',
      combined: animated || req.grid === true,
    };
  }

  listClasses(): readonly ClassInfo[] {
    return [
      { index: 0, wnid: 'n01440764', names: ['tench', 'Tinca tinca'] },
      { index: 1, wnid: 'n01443537', names: ['goldfish'] },
    ];
  }
}

/** A running server over a FakeService and a client connected to it. */
export interface Harness {
  readonly service: FakeService;
  readonly grpcServer: GrpcServer;
  readonly port: number;
  readonly client: GeneratorClient;
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1:0 with `opts` over a FakeService, and a client. */
export async function startHarness(
  opts: Partial<GrpcServerOptions> = {},
  service = new FakeService(),
): Promise<Harness> {
  const grpcServer = createGrpcServer(service, service, {
    maxConnectionAgeMs: 60_000,
    maxConnectionAgeGraceMs: 5_000,
    ...opts,
  });
  const port = await grpcServer.start('127.0.0.1', 0);
  const client = createGeneratorClient(`127.0.0.1:${port}`);
  return {
    service,
    grpcServer,
    port,
    client,
    async close() {
      client.close();
      await grpcServer.shutdown(2_000);
    },
  };
}

/** Generate as a promise; `deadlineMs` from now when given. */
export function generate(
  client: GeneratorClient,
  req: GenerateRequestInput,
  deadlineMs?: number,
): Promise<GenerateResponseMessage> {
  const options = deadlineMs !== undefined ? { deadline: Date.now() + deadlineMs } : {};
  return new Promise((resolve, reject) => {
    client.Generate(req, new grpc.Metadata(), options, (err, res) => (err ? reject(err) : resolve(res!)));
  });
}

/** The failure of a call that must fail. */
export async function callError(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('the call succeeded, but it should have failed');
}

/** Every message of an Interpolate stream, and its final status. */
export function interpolateAll(
  client: GeneratorClient,
  req: InterpolateRequestInput,
  onMessage?: (m: FrameMessage) => void,
): Promise<{ messages: FrameMessage[]; error?: grpc.ServiceError }> {
  const call = client.Interpolate(req);
  const messages: FrameMessage[] = [];
  return new Promise((resolve) => {
    let error: grpc.ServiceError | undefined;
    call.on('data', (m: FrameMessage) => {
      messages.push(m);
      onMessage?.(m);
    });
    call.on('error', (err: grpc.ServiceError) => {
      error = err;
    });
    // 'status' comes last, after 'end' or 'error'.
    call.on('status', () => resolve({ messages, ...(error ? { error } : {}) }));
  });
}
