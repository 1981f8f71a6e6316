/**
 * The OpenAPI 3.1 document of the REST API (served at /openapi.json) and a self-contained HTML
 * docs page rendered from it (served at /docs; no CDN, works offline).
 */
import { generateBody, interpolateBody, errorBody, imageJson } from './schemas.js';
import { X_CLASS_MAX_ENTRIES } from './headers.js';

const strip = <T extends object>(s: T): Omit<T, '$id'> => {
  const { $id: _id, ...rest } = s as T & { $id?: string };
  return rest;
};

const errors = (codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), { description: ERROR_TEXT[c], content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }]));

const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid request: the message names the field and the allowed values (client values are quoted cut to 64 characters).',
  405: 'Wrong method for this path; the Allow header lists the right ones.',
  408: 'The request (headers and body) was not received within the server\'s request timeout; the connection is closed.',
  413: 'Request body too large.',
  499: 'The client closed the connection (never sent; for logs and metrics).',
  503: 'Overloaded (queue full) or not ready / draining; see Retry-After.',
  504: 'The request waited in the queue longer than timeoutMs.',
};

/** Builds the OpenAPI document; `version` is the package version. */
export function openApiDocument(version: string): Record<string, unknown> {
  const image = (what: string) => ({
    'image/png': { schema: { type: 'string', format: 'binary' }, description: what },
    'image/jpeg': { schema: { type: 'string', format: 'binary' } },
    'image/webp': { schema: { type: 'string', format: 'binary' } },
  });
  return {
    openapi: '3.1.0',
    info: {
      title: 'biggan-serve',
      version,
      description: "Serves DeepMind's BigGAN-deep generator: class-conditional, truncated and interpolated samples. The same API is available over gRPC (proto/biggan/v1/biggan.proto).",
    },
    paths: {
      '/generate': {
        post: {
          summary: 'Generate images (also at /v1/generate)',
          description: 'One sample answers with the image itself; several answer with a JSON list, or one grid image with `grid`. The seed used is reported in the X-Seed header and the JSON, so every image can be reproduced.',
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/GenerateRequest' } } } },
          responses: {
            '200': {
              description: 'The image (one sample or grid), or JSON with one entry per sample.',
              headers: {
                'X-Seed': { schema: { type: 'string' }, description: 'Base seed of the request (sample i used seed + i).' },
                'X-Truncation': { schema: { type: 'string' }, description: 'Truncation of the single image.' },
                'X-Class': { schema: { type: 'string' }, description: `Single image only: its ${X_CLASS_MAX_ENTRIES} heaviest classes as JSON {"<index>": weight} (the whole vector when it has no more); the full vector is in the JSON answers.` },
                'X-Class-Count': { schema: { type: 'string' }, description: 'Single image only: how many classes have a non-zero weight (X-Class names at most 5).' },
              },
              content: { ...image('The image'), 'application/json': { schema: { type: 'object', properties: { seed: imageJson.properties.seed, images: { type: 'array', items: { $ref: '#/components/schemas/Image' } } } } } },
            },
            ...errors([400, 405, 408, 413, 503, 504]),
          },
        },
      },
      '/interpolate': {
        post: {
          summary: 'Interpolate between two (z, class) endpoints (also at /v1/interpolate)',
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/InterpolateRequest' } } } },
          responses: {
            '200': {
              description: 'An animated GIF/WebP, a grid image, or JSON frames.',
              content: { 'image/gif': { schema: { type: 'string', format: 'binary' } }, ...image('Grid of frames'), 'application/json': { schema: { type: 'object', properties: { frames: { type: 'array', items: { $ref: '#/components/schemas/Image' } } } } } },
            },
            ...errors([400, 405, 408, 413, 503, 504]),
          },
        },
      },
      '/v1/models': { get: { summary: 'The served model: name, resolution, z size, classes, engine and backend, parameters, limits', responses: { '200': { description: 'Model list', content: { 'application/json': { schema: { type: 'object' } } } } } } },
      '/v1/classes': { get: { summary: 'The ImageNet classes: index, WordNet id, names', responses: { '200': { description: 'Class list', content: { 'application/json': { schema: { type: 'object' } } } } } } },
      '/healthz': { get: { summary: 'Liveness: 200 while the process runs', responses: { '200': { description: 'alive' } } } },
      '/readyz': { get: { summary: 'Readiness: 200 only when the weights are loaded, warm-up has run and the server is not draining', responses: { '200': { description: 'ready' }, '503': { description: 'not ready' } } } },
      '/metrics': { get: { summary: 'Prometheus metrics (prefix biggan_)', responses: { '200': { description: 'text exposition format' } } } },
    },
    components: {
      schemas: {
        GenerateRequest: strip(generateBody),
        InterpolateRequest: strip(interpolateBody),
        Image: imageJson,
        Error: errorBody,
      },
    },
  };
}

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A plain HTML page describing every route and schema of the document. */
export function docsPage(doc: Record<string, unknown>): string {
  const paths = doc.paths as Record<string, Record<string, { summary?: string; description?: string }>>;
  const schemas = (doc.components as { schemas: Record<string, unknown> }).schemas;
  const routes = Object.entries(paths)
    .flatMap(([p, methods]) => Object.entries(methods).map(([m, op]) => `<h3><code>${m.toUpperCase()} ${escapeHtml(p)}</code></h3><p>${escapeHtml(op.summary ?? '')}</p>${op.description ? `<p>${escapeHtml(op.description)}</p>` : ''}`))
    .join('\n');
  const models = Object.entries(schemas).map(([name, s]) => `<h3 id="${name}">${name}</h3><pre>${escapeHtml(JSON.stringify(s, null, 2))}</pre>`).join('\n');
  const info = doc.info as { title: string; version: string; description: string };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(info.title)} API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}pre{background:#f4f4f4;padding:.8rem;overflow:auto}code{background:#f4f4f4}</style></head>
<body><h1>${escapeHtml(info.title)} ${escapeHtml(info.version)}</h1><p>${escapeHtml(info.description)}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a>. Example:</p>
<pre>curl -s -X POST localhost:8080/generate -H 'content-type: application/json' \\
  -d '{"class": "golden retriever", "truncation": 0.4, "seed": 7}' -o dog.png</pre>
<h2>Routes</h2>${routes}<h2>Schemas</h2>${models}</body></html>`;
}
