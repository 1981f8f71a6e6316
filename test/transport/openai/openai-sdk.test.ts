/**
 * The OpenAI-compatible images API driven by the official `openai` npm SDK against real servers
 * (tiny-128 fixture, plus a narrow random 256 model in a repository): the images equal
 * GET /generate's bytes, url answers fetch the same immutable image, prompts with two classes are
 * the equal mixture, client mistakes are BadRequestError naming the param, keys and quotas answer
 * AuthenticationError and RateLimitError (Retry-After), and the models are listed OpenAI's way.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { parseServerConfig } from '../../../src/config/server-config.js';
import { startServer, type RunningServer } from '../../../src/server/start.js';
import { initRandomCommand } from '../../../src/cli/init-random-command.js';
import { FIXTURE_DIR } from '../../helpers/fixtures.js';
import { tempDir, testKey, writeKeyFile } from '../../helpers/access.js';

const dir = tempDir('biggan-openai-');
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const repo = path.join(dir, 'repo');
const keyFile = path.join(dir, 'keys.json');
const bob = testKey('bob');
const alice = testKey('alice', { imagesPerSecond: 0.01, burst: 2 });
const PUBLIC_BASE = 'https://images.example.com/biggan';

const COMMON = [
  '--host',
  '127.0.0.1',
  '--http-port',
  '0',
  '--grpc-port',
  '-1',
  '--max-batch-size',
  '4',
  '--max-queue-delay-ms',
  '2',
  '--threads',
  '1',
];
const servers: RunningServer[] = [];
/** A repository (tiny-128 default, r256), open; the fixture with keys and a trusted proxy; with a public base URL. */
let open: string;
let keyed: string;
let published: string;

async function serve(args: string[]): Promise<string> {
  const { config } = parseServerConfig([...COMMON, ...args], {});
  const server = await startServer(config, { logger: false });
  servers.push(server);
  return `http://127.0.0.1:${server.httpPort}`;
}

const sdk = (base: string, apiKey = 'anything', opts: Partial<ConstructorParameters<typeof OpenAI>[0]> = {}) =>
  new OpenAI({ baseURL: `${base}/openai/v1`, apiKey, maxRetries: 0, timeout: 60_000, ...opts });

before(async () => {
  mkdirSync(repo);
  await initRandomCommand([
    '--preset',
    'biggan-deep-256',
    '--channel-width',
    '8',
    '--seed',
    '5',
    '--out',
    path.join(repo, 'r256'),
  ]);
  symlinkSync(FIXTURE_DIR, path.join(repo, 'tiny-128'));
  writeKeyFile(keyFile, [bob, alice]);
  open = await serve(['--model-repository', repo, '--default-model', 'tiny-128']);
  keyed = await serve(['--weights', FIXTURE_DIR, '--api-keys', keyFile, '--trust-proxy']);
  published = await serve(['--weights', FIXTURE_DIR, '--public-base-url', `${PUBLIC_BASE}/`]);
});

after(async () => {
  for (const s of servers) await s.stop();
});

/** The PNG bytes of GET /generate with `query`. */
async function nativeGet(base: string, query: string, headers: Record<string, string> = {}): Promise<Buffer> {
  const res = await fetch(`${base}/generate?${query}`, { headers });
  assert.equal(res.status, 200, `${query}: ${res.status} ${await res.clone().text()}`);
  assert.equal(res.headers.get('content-type'), 'image/png');
  return Buffer.from(await res.arrayBuffer());
}

/** The PNG bytes of POST /generate with one sample. */
async function nativePost(base: string, body: object): Promise<Buffer> {
  const res = await fetch(`${base}/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, `${JSON.stringify(body)}: ${res.status} ${await res.clone().text()}`);
  return Buffer.from(await res.arrayBuffer());
}

const b64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64');

/** Extra fields of ours the SDK's types do not know (it sends the body as given). */
type Extended = OpenAI.Images.ImageGenerateParamsNonStreaming & { seed?: number | string; truncation?: number };
const generate = (client: OpenAI, body: Extended, options?: OpenAI.RequestOptions) =>
  client.images.generate(body, options);

test('two images of "a photo of a golden retriever", seed 7, are GET /generate class 207 seeds 7 and 8', async () => {
  const res = await generate(sdk(open), {
    prompt: 'a photo of a golden retriever',
    n: 2,
    size: '128x128',
    response_format: 'b64_json',
    seed: 7,
  });
  assert.ok(Math.abs(res.created - Date.now() / 1000) < 600, 'created is unix seconds');
  assert.equal(res.data?.length, 2);
  const [first, second] = res.data!;
  assert.ok(b64(first.b64_json).equals(await nativeGet(open, 'class=207&seed=7')), 'image 0 = seed 7');
  assert.ok(b64(second.b64_json).equals(await nativeGet(open, 'class=207&seed=8')), 'image 1 = seed 8');
  assert.ok(!b64(first.b64_json).equals(b64(second.b64_json)));
  assert.equal(first.url, undefined);
  assert.equal(first.revised_prompt, 'golden retriever (207) weight 1; truncation 0.4; seed 7');
  assert.equal(second.revised_prompt, 'golden retriever (207) weight 1; truncation 0.4; seed 8');
});

test('url answers (the default) are absolute seeded GET /generate URLs of the same bytes, immutable', async () => {
  const body: Extended = { prompt: 'Golden Retrievers', n: 2, size: '128x128', seed: 31, truncation: 0.7 };
  const inline = await generate(sdk(open), { ...body, response_format: 'b64_json' });
  const linked = await generate(sdk(open), body);
  for (const [i, image] of linked.data!.entries()) {
    assert.equal(image.b64_json, undefined);
    assert.ok(image.url?.startsWith(`${open}/generate?`), image.url);
    const res = await fetch(image.url!);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.match(res.headers.get('cache-control') ?? '', /immutable/);
    assert.ok(res.headers.get('etag'));
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(b64(inline.data![i].b64_json)), `url ${i} = b64_json ${i}`);
    assert.equal(image.revised_prompt, `golden retriever (207) weight 1; truncation 0.7; seed ${31 + i}`);
  }
  // Without a seed, a url answer still gets a seeded (repeatable) URL, and says which seed.
  const unseeded = await generate(sdk(open), { prompt: 'golden retriever' });
  const seed = /seed (\d+)$/.exec(unseeded.data![0].revised_prompt ?? '')?.[1];
  assert.ok(seed, unseeded.data![0].revised_prompt);
  assert.equal(new URL(unseeded.data![0].url!).searchParams.get('seed'), seed);
});

test('two classes are the equal mixture, pixel-identical to /generate {"207": 0.5, "852": 0.5}', async () => {
  const res = await generate(sdk(open), {
    prompt: 'a golden retriever playing with a tennis ball',
    size: '128x128',
    response_format: 'b64_json',
    seed: 3,
  });
  const image = res.data![0];
  assert.ok(b64(image.b64_json).equals(await nativePost(open, { class: { 207: 0.5, 852: 0.5 }, seed: 3 })));
  assert.ok(!b64(image.b64_json).equals(await nativePost(open, { class: 207, seed: 3 })), 'not the single class');
  assert.equal(
    image.revised_prompt,
    'golden retriever (207) weight 0.5, tennis ball (852) weight 0.5; truncation 0.4; seed 3',
  );
  // The url form of a mixture names it as GET /generate does (207:0.5,852:0.5) and gives the same bytes.
  const linked = await generate(sdk(open), { prompt: 'tennis ball and class 207', seed: 3 });
  const url = new URL(linked.data![0].url!);
  assert.equal(url.searchParams.get('class'), '207:0.5,852:0.5');
  assert.ok(Buffer.from(await (await fetch(url)).arrayBuffer()).equals(b64(image.b64_json)));
});

test('size picks the model serving it, model names one; both follow the repository', async () => {
  const big = await generate(sdk(open), { prompt: 'n02099601', size: '256x256', response_format: 'b64_json', seed: 5 });
  assert.ok(b64(big.data![0].b64_json).equals(await nativeGet(open, 'class=207&seed=5&model=r256')));
  const named = await generate(sdk(open), { prompt: 'class 207', model: 'r256', response_format: 'b64_json', seed: 5 });
  assert.equal(named.data![0].b64_json, big.data![0].b64_json);
  const auto = await generate(sdk(open), { prompt: 'class 207', size: 'auto', response_format: 'b64_json', seed: 5 });
  assert.ok(b64(auto.data![0].b64_json).equals(await nativeGet(open, 'class=207&seed=5')), 'auto: the default model');
});

/** The SDK error of a call that must fail. */
async function failure(p: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof OpenAI.APIError, `expected an APIError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the call to fail');
}

test('no class, an unserved size, too large n, a bad field: BadRequestError naming the param', async () => {
  const client = sdk(open);
  const none = await failure(generate(client, { prompt: 'a photo of three dogs on the beach' }));
  assert.ok(none instanceof OpenAI.BadRequestError);
  assert.equal(none.param, 'prompt');
  assert.equal(none.type, 'invalid_request_error');
  assert.match(none.message, /names no ImageNet class.*closest class names: .*dog \(\d+\)/);
  const typo = await failure(generate(client, { prompt: 'a golden retreiver' }));
  assert.match(typo.message, /golden retriever \(207\)/);
  const size = await failure(generate(client, { prompt: 'golden retriever', size: '1024x1024' }));
  assert.ok(size instanceof OpenAI.BadRequestError);
  assert.equal(size.param, 'size');
  assert.match(size.message, /128x128, 256x256/);
  const mismatch = await failure(generate(client, { prompt: 'golden retriever', size: '256x256', model: 'tiny-128' }));
  assert.equal(mismatch.param, 'size');
  const n = await failure(generate(client, { prompt: 'golden retriever', n: 17 }));
  assert.ok(n instanceof OpenAI.BadRequestError);
  assert.equal(n.param, 'n');
  assert.match(n.message, /1\.\.16/);
  const format = await failure(generate(client, { prompt: 'golden retriever', response_format: 'jpeg' as 'url' }));
  assert.equal(format.param, 'response_format');
  const truncation = await failure(generate(client, { prompt: 'golden retriever', truncation: 2 }));
  assert.equal(truncation.param, 'truncation');
  const unknown = await failure(generate(client, { prompt: 'golden retriever', colour: 'red' } as Extended));
  assert.ok(unknown instanceof OpenAI.BadRequestError);
  assert.match(unknown.message, /colour/);
  const timeout = await failure(
    generate(client, { prompt: 'golden retriever' }, { headers: { 'x-request-timeout': 'soon' } }),
  );
  assert.equal(timeout.param, 'x-request-timeout');
  const model = await failure(generate(client, { prompt: 'golden retriever', model: 'dall-e-3' }));
  assert.ok(model instanceof OpenAI.NotFoundError);
  assert.equal(model.param, 'model');
  assert.equal(model.code, 'model_not_found');
  assert.match(model.message, /r256, tiny-128/);
});

test('known OpenAI fields that change nothing are accepted; null means absent', async () => {
  const res = await generate(sdk(open), {
    prompt: 'golden retriever',
    quality: 'hd',
    style: 'vivid',
    user: 'u1',
    n: null,
    size: null,
    response_format: 'b64_json',
    seed: 7,
  });
  assert.ok(b64(res.data![0].b64_json).equals(await nativeGet(open, 'class=207&seed=7')));
});

test('errors are OpenAI-shaped under /openai/v1 only; unknown paths 404 and wrong methods 405 there', async () => {
  const bad = await fetch(`${open}/openai/v1/images/generations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"prompt": ',
  });
  assert.equal(bad.status, 400);
  const body = (await bad.json()) as { error: Record<string, unknown> };
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(body.error.type, 'invalid_request_error');
  const missing = await fetch(`${open}/openai/v1/images/edits`, { method: 'POST' });
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as { error: { type: string } }).error.type, 'invalid_request_error');
  const method = await fetch(`${open}/openai/v1/images/generations`);
  assert.equal(method.status, 405);
  assert.equal(method.headers.get('allow'), 'POST');
  const native = await fetch(`${open}/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"class": "no such thing"}',
  });
  assert.equal(
    ((await native.json()) as { error: { code: string } }).error.code,
    'INVALID_ARGUMENT',
    'the native API keeps its shape',
  );
});

test('models.list() lists the repository; models.retrieve() one; an unknown id is NotFoundError', async () => {
  const client = sdk(open);
  const ids: string[] = [];
  for await (const m of client.models.list()) {
    assert.equal(m.object, 'model');
    assert.equal(m.owned_by, 'biggan-serve');
    assert.ok(Number.isInteger(m.created));
    ids.push(m.id);
  }
  assert.deepEqual(ids.sort(), ['r256', 'tiny-128']);
  assert.equal((await client.models.retrieve('r256')).id, 'r256');
  const err = await failure(client.models.retrieve('dall-e-3'));
  assert.ok(err instanceof OpenAI.NotFoundError);
});

test('keys: a wrong one is AuthenticationError (OpenAI-shaped), the right one served; its url needs it', async () => {
  const wrong = await failure(generate(sdk(keyed, 'sk-not-a-key'), { prompt: 'golden retriever' }));
  assert.ok(wrong instanceof OpenAI.AuthenticationError);
  assert.equal(wrong.type, 'authentication_error');
  assert.equal(wrong.code, 'invalid_api_key');
  assert.ok((await failure(sdk(keyed, 'sk-not-a-key').models.list())) instanceof OpenAI.AuthenticationError);
  const res = await generate(sdk(keyed, bob.key), { prompt: 'golden retriever', seed: 9 });
  const url = res.data![0].url!;
  assert.equal((await fetch(url)).status, 401, 'a url answer is fetched with the key');
  const bytes = await nativeGet(keyed, new URL(url).search.slice(1), { authorization: `Bearer ${bob.key}` });
  assert.ok(bytes.equals(await nativeGet(keyed, 'class=207&seed=9', { authorization: `Bearer ${bob.key}` })));
});

test('X-Forwarded-Proto/-Host build the url only with --trust-proxy; --public-base-url wins', async () => {
  const forwarded = { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'images.example.com' } };
  const trusted = await generate(sdk(keyed, bob.key), { prompt: 'golden retriever', seed: 9 }, forwarded);
  assert.ok(trusted.data![0].url!.startsWith('https://images.example.com/generate?'), trusted.data![0].url);
  const ignored = await generate(sdk(open), { prompt: 'golden retriever', seed: 9 }, forwarded);
  assert.ok(ignored.data![0].url!.startsWith(`${open}/generate?`), ignored.data![0].url);
  const fixed = await generate(sdk(published), { prompt: 'golden retriever', seed: 9 }, forwarded);
  assert.ok(fixed.data![0].url!.startsWith(`${PUBLIC_BASE}/generate?class=207&seed=9&`), fixed.data![0].url);
});

test("over a key's quota: RateLimitError with Retry-After", async () => {
  const client = sdk(keyed, alice.key);
  await generate(client, { prompt: 'golden retriever', n: 2, response_format: 'b64_json', seed: 500 });
  const limited = await failure(
    generate(client, { prompt: 'golden retriever', response_format: 'b64_json', seed: 600 }),
  );
  assert.ok(limited instanceof OpenAI.RateLimitError, String(limited));
  assert.equal(limited.type, 'rate_limit_error');
  assert.ok(Number(limited.headers?.get('retry-after')) >= 1, 'Retry-After in seconds');
});

test('metrics label the OpenAI routes as their own routes', async () => {
  await sdk(open).models.list();
  const text = await (await fetch(`${open}/metrics`)).text();
  assert.match(text, /biggan_requests_total\{transport="http",route="\/openai\/v1\/images\/generations",status="200"/);
  assert.match(text, /biggan_requests_total\{transport="http",route="\/openai\/v1\/models",status="200"/);
});

/** The metric lines of `name` whose labels contain every one of `labels`. */
async function metricLines(base: string, name: string, labels: readonly string[]): Promise<string[]> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) && labels.every((x) => l.includes(x)));
}

test('the model label of an OpenAI request is the model it resolves to: the one serving `size`', async () => {
  await generate(sdk(open), { prompt: 'golden retriever', size: '256x256', response_format: 'b64_json', seed: 31 });
  // Refused after the model is chosen (the prompt names no class): counted under that model too.
  const refused = await failure(generate(sdk(open), { prompt: 'nothing drawable here', size: '256x256' }));
  assert.ok(refused instanceof OpenAI.BadRequestError, String(refused));
  const route = 'route="/openai/v1/images/generations"';
  assert.equal((await metricLines(open, 'biggan_requests_total', [route, 'status="200"', 'model="r256"'])).length, 1);
  assert.equal((await metricLines(open, 'biggan_rejections_total', ['reason="invalid"', 'model="r256"'])).length, 1);
});
