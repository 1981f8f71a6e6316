import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { service as healthServiceDefinition } from 'grpc-health-check';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { createMetrics } from '../../../src/metrics/metrics.js';
import { createGrpcServer, DEFAULT_MAX_SEND_MESSAGE_BYTES } from '../../../src/transport/grpc/server.js';
import type { ListClassesResponseMessage, ModelInfoMessage } from '../../../src/transport/grpc/codec.js';
import { abortedWithin, callError, FakeService, generate, startHarness, type Harness } from './harness.js';

/** The fake as both objects a transport takes (requests, catalog). */
const twice = (fake: FakeService): [FakeService, FakeService] => [fake, fake];

type Unary<Res> = (req: object, cb: (err: grpc.ServiceError | null, res?: Res) => void) => void;

function unary<Res>(client: grpc.Client, method: string, req: object): Promise<Res> {
  const fn = (client as unknown as Record<string, Unary<Res>>)[method].bind(client);
  return new Promise((resolve, reject) => fn(req, (err, res) => (err ? reject(err) : resolve(res!))));
}

function healthClient(port: number): grpc.Client {
  const Health = grpc.makeGenericClientConstructor(healthServiceDefinition as grpc.ServiceDefinition, 'Health');
  return new Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

async function healthOf(client: grpc.Client, service: string): Promise<string> {
  return (await unary<{ status: string }>(client, 'Check', { service })).status;
}

describe('gRPC ListClasses and GetModel', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('lists the classes with index, WordNet id and names', async () => {
    const res = await unary<ListClassesResponseMessage>(h.client, 'ListClasses', {});
    assert.deepEqual(res.classes, [
      { index: 0, wnid: 'n01440764', names: ['tench', 'Tinca tinca'] },
      { index: 1, wnid: 'n01443537', names: ['goldfish'] },
    ]);
  });

  it('describes the model, with uint64 parameters as a decimal string', async () => {
    const res = await unary<ModelInfoMessage>(h.client, 'GetModel', {});
    assert.deepEqual(res, {
      name: 'fake-biggan-128',
      resolution: 128,
      zDim: 4,
      numClasses: 6,
      parameters: '123456789012',
      engine: 'fake',
      backend: 'none',
      maxSamplesPerRequest: 16,
      maxBatchSize: 8,
      truncation: { min: 0, max: 1, defaultValue: Math.fround(0.4) },
      formats: ['png', 'jpeg', 'webp'],
      // A service without a model repository describes its one model as ready and the default.
      state: 'ready',
      reason: '',
      default: true,
      maxQueueDelayMs: 0,
      maxQueueSize: 0,
      memoryEstimateBytes: '0',
    });
  });
});

describe('gRPC health', () => {
  let h: Harness;
  let health: grpc.Client;
  before(async () => {
    h = await startHarness();
    health = healthClient(h.port);
  });
  after(async () => {
    health.close();
    await h.close();
  });

  it('is NOT_SERVING until setServing(true), SERVING then, NOT_SERVING after setServing(false)', async () => {
    for (const name of ['', 'biggan.v1.Generator']) assert.equal(await healthOf(health, name), 'NOT_SERVING', name);
    h.grpcServer.setServing(true);
    for (const name of ['', 'biggan.v1.Generator']) assert.equal(await healthOf(health, name), 'SERVING', name);
    h.grpcServer.setServing(false);
    for (const name of ['', 'biggan.v1.Generator']) assert.equal(await healthOf(health, name), 'NOT_SERVING', name);
  });

  it('follows the service readiness (NOT_SERVING while it drains)', async () => {
    h.grpcServer.setServing(true);
    h.service.setReady(false);
    assert.equal(await healthOf(health, 'biggan.v1.Generator'), 'NOT_SERVING');
    assert.equal(await healthOf(health, ''), 'NOT_SERVING');
    h.service.setReady(true);
    assert.equal(await healthOf(health, ''), 'SERVING');
    h.grpcServer.setServing(false);
  });

  it('answers NOT_FOUND for an unknown service name', async () => {
    const err = await callError(healthOf(health, 'no.such.Service'));
    assert.equal(err.code, grpc.status.NOT_FOUND);
  });
});

describe('gRPC reflection', () => {
  let h: Harness;
  let reflection: grpc.Client;
  before(async () => {
    h = await startHarness();
    // The reflection package ships its .proto; tests run from the repo root.
    const protoPath = path.join(
      process.cwd(),
      'node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto',
    );
    const pkg = protoLoader.loadSync(protoPath, {
      keepCase: false,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const Reflection = grpc.makeGenericClientConstructor(
      pkg['grpc.reflection.v1.ServerReflection'] as grpc.ServiceDefinition,
      'ServerReflection',
    );
    reflection = new Reflection(`127.0.0.1:${h.port}`, grpc.credentials.createInsecure());
  });
  after(async () => {
    reflection.close();
    await h.close();
  });

  /** One request on the ServerReflectionInfo stream, as grpcurl sends it. */
  function ask(request: object): Promise<Record<string, unknown>> {
    const stream = (
      reflection as unknown as { ServerReflectionInfo(): grpc.ClientDuplexStream<object, Record<string, unknown>> }
    ).ServerReflectionInfo();
    return new Promise((resolve, reject) => {
      stream.once('data', (res: Record<string, unknown>) => {
        resolve(res);
        stream.end();
      });
      stream.once('error', reject);
      stream.write(request);
    });
  }

  it('lists biggan.v1.Generator and the health service (grpcurl list)', async () => {
    const res = await ask({ listServices: '*' });
    const names = (res.listServicesResponse as { service: { name: string }[] }).service.map((s) => s.name);
    assert.ok(names.includes('biggan.v1.Generator'), names.join(', '));
    assert.ok(names.includes('grpc.health.v1.Health'), names.join(', '));
  });

  it('describes biggan.v1.Generator with its five methods (grpcurl describe)', async () => {
    const res = await ask({ fileContainingSymbol: 'biggan.v1.Generator' });
    const files = (res.fileDescriptorResponse as { fileDescriptorProto: Buffer[] }).fileDescriptorProto;
    const decoded = files.map(
      (b) =>
        descriptor.FileDescriptorProto.decode(b) as unknown as {
          package: string;
          service: { name: string; method: { name: string }[] }[];
        },
    );
    const file = decoded.find((f) => f.package === 'biggan.v1');
    assert.ok(file, 'a file of package biggan.v1');
    const generator = file.service.find((s) => s.name === 'Generator');
    assert.deepEqual(
      generator?.method.map((m) => m.name),
      ['Generate', 'Interpolate', 'ListClasses', 'GetModel', 'ListModels'],
    );
  });
});

describe('gRPC server options and lifecycle', () => {
  it('builds the server with connection age, message limits and keepalive options', () => {
    const built = createGrpcServer(...twice(new FakeService()), {
      maxConnectionAgeMs: 300_000,
      maxConnectionAgeGraceMs: 30_000,
      keepaliveTimeMs: 60_000,
    });
    assert.equal(built.channelOptions['grpc.max_connection_age_ms'], 300_000);
    assert.equal(built.channelOptions['grpc.max_connection_age_grace_ms'], 30_000);
    assert.equal(built.channelOptions['grpc.keepalive_time_ms'], 60_000);
    assert.equal(built.channelOptions['grpc.max_send_message_length'], DEFAULT_MAX_SEND_MESSAGE_BYTES);
    assert.ok(DEFAULT_MAX_SEND_MESSAGE_BYTES >= 64 * 1024 * 1024);
    // grpc-js keeps the options it was constructed with: they must be the ones it enforces.
    const given = (built.server as unknown as { options: grpc.ChannelOptions }).options;
    assert.equal(given['grpc.max_connection_age_ms'], 300_000);
  });

  it('sends GOAWAY after max connection age; the client reconnects for the next call', async () => {
    const h = await startHarness({ maxConnectionAgeMs: 300, maxConnectionAgeGraceMs: 200 });
    try {
      await generate(h.client, { classes: [{ index: 1 }] });
      const channel = h.client.getChannel();
      assert.equal(channel.getConnectivityState(false), grpc.connectivityState.READY);
      // After the GOAWAY the channel leaves READY (to IDLE) on its own, without any call failing.
      const left = await new Promise<boolean>((resolve) => {
        channel.watchConnectivityState(grpc.connectivityState.READY, Date.now() + 3_000, (err) => resolve(!err));
      });
      assert.equal(left, true, 'the channel left READY within 3 s');
      assert.notEqual(channel.getConnectivityState(false), grpc.connectivityState.READY);
      const res = await generate(h.client, { classes: [{ index: 1 }] });
      assert.equal(res.images.length, 1);
    } finally {
      await h.close();
    }
  });

  it('shutdown waits for an in-flight call, then refuses new ones', async () => {
    const h = await startHarness();
    try {
      h.service.hold = () => new Promise((resolve) => setTimeout(resolve, 300));
      const arrived = h.service.nextCall();
      const inFlight = generate(h.client, { classes: [{ index: 1 }] });
      await arrived;
      const t0 = performance.now();
      await h.grpcServer.shutdown(5_000);
      const res = await inFlight;
      assert.equal(res.images.length, 1);
      assert.ok(performance.now() - t0 < 4_000, 'returned when the call finished, not at the grace limit');
      const err = await callError(generate(h.client, { classes: [{ index: 1 }] }, 2_000));
      assert.equal(err.code, grpc.status.UNAVAILABLE);
    } finally {
      await h.close();
    }
  });

  it('shutdown cuts calls still running after the grace period and aborts their signal', async () => {
    const h = await startHarness();
    try {
      let sawAbort: Promise<boolean> = Promise.resolve(false);
      h.service.hold = (ctx) => {
        sawAbort = abortedWithin(ctx.signal, 10_000);
        return sawAbort.then(() => undefined);
      };
      const arrived = h.service.nextCall();
      const stuck = callError(generate(h.client, { classes: [{ index: 1 }] }));
      await arrived;
      const t0 = performance.now();
      await h.grpcServer.shutdown(200);
      assert.ok(performance.now() - t0 < 2_000, 'shutdown returned soon after the grace period');
      assert.equal(await sawAbort, true);
      const err = await stuck;
      assert.ok([grpc.status.CANCELLED, grpc.status.UNAVAILABLE].includes(err.code), `status ${err.code}`);
    } finally {
      await h.close();
    }
  });

  it('tells health watchers NOT_SERVING when shutdown starts', async () => {
    const h = await startHarness();
    const health = healthClient(h.port);
    try {
      h.grpcServer.setServing(true);
      const statuses: string[] = [];
      const watch = (health as unknown as { Watch(req: object): grpc.ClientReadableStream<{ status: string }> }).Watch({
        service: '',
      });
      const sawNotServing = new Promise<void>((resolve) => {
        watch.on('data', (m: { status: string }) => {
          statuses.push(m.status);
          if (m.status === 'NOT_SERVING') resolve();
        });
      });
      watch.on('error', () => undefined); // cut at shutdown
      while (statuses.length === 0) await new Promise((r) => setTimeout(r, 10));
      const done = h.grpcServer.shutdown(300);
      await sawNotServing;
      await done;
      assert.deepEqual(statuses, ['SERVING', 'NOT_SERVING']);
    } finally {
      health.close();
      await h.close();
    }
  });

  it('rejects start() on a port already in use', async () => {
    const h = await startHarness();
    const other = createGrpcServer(...twice(new FakeService()), {
      maxConnectionAgeMs: 60_000,
      maxConnectionAgeGraceMs: 1_000,
    });
    try {
      await assert.rejects(other.start('127.0.0.1', h.port), {
        code: 'IO_ERROR',
        message: /cannot listen on 127\.0\.0\.1:\d+/,
      });
    } finally {
      await other.shutdown(100);
      await h.close();
    }
  });

  it('counts calls by method and status, and the rejections it caught itself', async () => {
    const metrics = createMetrics();
    const h = await startHarness({ metrics });
    try {
      await generate(h.client, { classes: [{ index: 1 }] });
      await callError(generate(h.client, { classes: [{}] }));
      const requests = await metrics.requests.get();
      const count = (status: string) =>
        requests.values.find(
          (v) => v.labels.route === 'Generate' && v.labels.status === status && v.labels.transport === 'grpc',
        )?.value;
      assert.equal(count('OK'), 1);
      assert.equal(count('INVALID_ARGUMENT'), 1);
      const rejections = await metrics.rejections.get();
      assert.equal(rejections.values.find((v) => v.labels.reason === 'invalid')?.value, 1);
    } finally {
      await h.close();
    }
  });
});
