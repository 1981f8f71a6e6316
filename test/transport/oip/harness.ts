/**
 * Helpers of the Open Inference Protocol tests: a real server on the tiny fixture (REST and gRPC
 * on free ports), answers checked against our schemas, binary bodies built and split as
 * tritonclient does, and gRPC clients built from our proto AND from the canonical proto of the
 * specification (read from ../shared at test time, never copied in), to prove wire compatibility.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import sharp from 'sharp';
import { Check, Errors } from 'typebox/value';
import type { TSchema } from 'typebox';
import { parseServerConfig } from '../../../src/config/server-config.js';
import { startServer, type RunningServer, type StartOptions } from '../../../src/server/start.js';
import { FIXTURE_DIR } from '../../helpers/fixtures.js';

export const MODEL = path.basename(FIXTURE_DIR);

/** Starts the real server on the fixture with extra flags. */
export async function startOipServer(
  flags: string[] = [],
  opts: StartOptions = { logger: false },
): Promise<RunningServer> {
  const argv = [
    '--weights',
    FIXTURE_DIR,
    '--host',
    '127.0.0.1',
    '--http-port',
    '0',
    '--grpc-port',
    '0',
    '--max-batch-size',
    '4',
    '--max-queue-delay-ms',
    '2',
    ...flags,
  ];
  const { config } = parseServerConfig(argv, {});
  return startServer(config, opts);
}

/** Asserts `value` matches `schema`, listing the mismatches. */
export function assertSchema(schema: TSchema, value: unknown, what: string): void {
  if (!Check(schema, value)) {
    assert.fail(
      `${what} does not match ${String((schema as { title?: string }).title)}: ${JSON.stringify([...Errors(schema, value)].slice(0, 3))}`,
    );
  }
}

/** A binary request body: JSON header then the tensors' bytes; returns body and header length. */
export function binaryBody(header: object, tensors: readonly Buffer[]): { body: Buffer; headerLength: number } {
  const h = Buffer.from(JSON.stringify(header), 'utf8');
  return { body: Buffer.concat([h, ...tensors]), headerLength: h.length };
}

/** Splits a binary answer into its JSON header and the bytes after it. */
export function splitAnswer(body: Buffer, headerLength: number): { header: Record<string, unknown>; rest: Buffer } {
  return {
    header: JSON.parse(body.subarray(0, headerLength).toString('utf8')) as Record<string, unknown>,
    rest: body.subarray(headerLength),
  };
}

/** Little-endian bytes of values. */
export const le = {
  int64: (v: readonly (number | bigint)[]) => Buffer.from(new BigInt64Array(v.map((x) => BigInt(x))).buffer),
  int32: (v: readonly number[]) => Buffer.from(new Int32Array(v).buffer),
  fp32: (v: readonly number[]) => Buffer.from(new Float32Array(v).buffer),
};

/** BYTES elements of the binary form (4-byte LE length + bytes each). */
export function bytesElements(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < b.length;) {
    const n = b.readUInt32LE(at);
    out.push(b.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  return out;
}

/** RGB pixels of a PNG. */
export async function rgbOf(png: Buffer): Promise<Buffer> {
  return sharp(png).removeAlpha().raw().toBuffer();
}

/** POST /generate (JSON answer): each sample's PNG. */
export async function generatePngs(
  base: string,
  body: object,
  headers: Record<string, string> = {},
): Promise<Buffer[]> {
  const res = await fetch(`${base}/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const json = (await res.json()) as { images: { data: string }[] };
  return json.images.map((i) => Buffer.from(i.data, 'base64'));
}

/** The canonical proto of the specification, beside the repository (../shared), if present. */
export function canonicalProtoPath(): string {
  const candidates = ['../shared', '../../shared', '/work/shared'].map((d) =>
    path.resolve(d, 'specs/open-inference-protocol/open_inference_grpc.proto'),
  );
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`the specification's open_inference_grpc.proto is not in ${candidates.join(' or ')}`);
  return found;
}

/** A unary-call client of inference.GRPCInferenceService built from `protoFile` (keepCase: the wire's snake_case names). */
export type OipClient = {
  close(): void;
  call(
    method: string,
    req: object,
    md?: grpc.Metadata,
    options?: grpc.CallOptions,
  ): Promise<{ res?: Record<string, unknown>; err?: grpc.ServiceError }>;
};

type UnaryMethod = (
  req: object,
  md: grpc.Metadata,
  options: grpc.CallOptions,
  cb: (e: grpc.ServiceError | null, r?: Record<string, unknown>) => void,
) => void;

export function oipClient(protoFile: string, address: string): OipClient {
  const def = protoLoader.loadSync(protoFile, {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const service = def['inference.GRPCInferenceService'] as grpc.ServiceDefinition;
  const Ctor = grpc.makeGenericClientConstructor(service, 'GRPCInferenceService');
  const options = { 'grpc.max_receive_message_length': -1 };
  const client = new Ctor(address, grpc.credentials.createInsecure(), options) as unknown as Record<
    string,
    UnaryMethod
  > &
    grpc.Client;
  return {
    close: () => client.close(),
    call: (method, req, md = new grpc.Metadata(), opts = {}) =>
      new Promise((resolve) =>
        client[method].call(client, req, md, opts, (err, res) => resolve(err ? { err } : { res: res! })),
      ),
  };
}
