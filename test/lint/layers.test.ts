/**
 * The import-direction rule of eslint.config.js, checked on source text placed at given paths:
 * every forbidden direction is reported and the allowed ones are not, so a broken pattern in the
 * layer table cannot silently pass every file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: process.cwd() });

/** Rule ids reported for `code` as if it were the file `filePath`. */
async function layerErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport {};\n`, { filePath });
  return result.messages
    .filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax')
    .map((m) => m.message);
}

const FORBIDDEN: [string, string][] = [
  ['src/weights/read.ts', "import { parseConfig } from '../model/config.js';"], // the old weights -> model cycle
  ['src/config/server-config.ts', "import { UsageError } from '../cli/options.js';"], // config -> cli
  ['src/config/server-config.ts', "import { createEngine } from '../engine/create-engine.js';"], // pulled in tfjs-core
  ['src/config/options.ts', "import * as tf from '@tensorflow/tfjs-core';"],
  ['src/engine/tfjs/tfjs-worker.ts', "import { createTfjsEngine } from './tfjs-engine.js';"], // worker -> host side
  ['src/engine/ort/ort-worker.ts', "import { createEngine } from '../create-engine.js';"],
  ['src/batching/batcher.ts', "import type { GenerationService } from '../service/generation-service.js';"],
  ['src/batching/batcher.ts', "import { createMetrics } from '../metrics/metrics.js';"],
  ['src/service/types.ts', "import { buildHttpApp } from '../transport/http/app.js';"],
  ['src/engine/engine.ts', "import { Batcher } from '../batching/batcher.js';"],
  ['src/engine/ort/ort-engine.ts', "import { defaultCacheDir } from '../../download/cache.js';"], // same rank
  ['src/model/config.ts', "import type { Engine } from '../engine/engine.js';"],
  ['src/model/config.ts', "import * as ort from 'onnxruntime-node';"],
  ['src/latents/prng.ts', "import { toRgb8 } from '../image/convert.js';"], // leaves do not import each other
  ['src/transport/http/app.ts', "import { parseServerConfig } from '../../config/server-config.js';"],
  ['src/transport/grpc/server.ts', "import { main } from '../../cli/main.js';"],
  ['src/service/generation-service.ts', "import fastify from 'fastify';"],
  ['src/errors.ts', "import { packageVersion } from './package-root.js';"],
  ['src/weights/read.ts', "export const m = () => import('../model/config.js');"], // dynamic import
  ['src/auth/key-store.ts', "import type { Metrics } from '../metrics/metrics.js';"], // auth is a leaf
  ['src/auth/quota-store.ts', "import fastify from 'fastify';"],
  ['src/service/quota-service.ts', "import { Redis } from 'ioredis';"], // Redis only in auth/
  ['src/auth/key-file.ts', "import { setUpAccess } from '../access.js';"], // a composition root
];

const ALLOWED: [string, string][] = [
  ['src/transport/http/app.ts', "import type { GenerationService } from '../../service/generation-service.js';"],
  ['src/transport/grpc/server.ts', "import { Server } from '@grpc/grpc-js';"],
  ['src/service/generation-service.ts', "import { Batcher } from '../batching/batcher.js';"],
  ['src/metrics/metrics.ts', "import type { BatcherObserver } from '../batching/batcher.js';"],
  ['src/engine/tfjs/tfjs-engine.ts', "import * as tf from '@tensorflow/tfjs-core';"],
  ['src/engine/tfjs/tfjs-worker.ts', "import { runForward } from './forward.js';"],
  ['src/engine/ort/ort-engine.ts', "import { statWeights } from '../../model/batch-norm-stats.js';"],
  ['src/model/load-model.ts', "import { readStateDict } from '../weights/read.js';"],
  ['src/model/batch-norm-stats.ts', "import { checkTruncation } from '../latents/truncation.js';"],
  ['src/config/server-config.ts', "import { ENGINE_CHOICES } from '../engine/choices.js';"],
  ['src/config/server-config.ts', "import { PRESET_NAMES } from '../model/config.js';"],
  ['src/server/start.ts', "import { buildHttpApp } from '../transport/http/app.js';"],
  ['src/cli/main.ts', "import { createEngine } from '../engine/create-engine.js';"],
  ['src/service/quota-service.ts', "import { LocalQuotaStore } from '../auth/quota-store.js';"],
  ['src/transport/http/auth.ts', "import { KeyStore } from '../../auth/key-store.js';"],
  ['src/auth/redis-quota-store.ts', "import { Redis } from 'ioredis';"],
];

test('every import against the layer direction is an error naming the rule', async () => {
  for (const [file, code] of FORBIDDEN) {
    const errors = await layerErrors(file, code);
    assert.equal(errors.length, 1, `${file}: ${code} -> ${JSON.stringify(errors)}`);
  }
});

test('imports along the layer direction pass', async () => {
  for (const [file, code] of ALLOWED) {
    assert.deepEqual(await layerErrors(file, code), [], `${file}: ${code}`);
  }
});
