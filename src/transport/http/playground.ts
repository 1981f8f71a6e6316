/**
 * The playground page (web/, built into dist/web): `GET /` and `GET /playground` answer its HTML,
 * `/playground/assets/*` its modules and stylesheet. Static files only; the page uses the public API.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';
import { packageRoot } from '../../package-root.js';
import { errorPayload } from './errors.js';

/** Folder of the built page (scripts/build-web.mjs writes it). */
export function playgroundDir(): string {
  return path.join(packageRoot(), 'dist', 'web');
}

/** Registers the playground routes on the app (in their own plugin scope). */
export function registerPlayground(app: FastifyInstance, root = playgroundDir()): void {
  app.register(async (scope) => {
    const indexFile = path.join(root, 'index.html');
    if (!existsSync(indexFile)) {
      // A source checkout that has not been built: say how to build instead of a bare 404.
      const missing = async (_request: unknown, reply: FastifyReply) =>
        reply
          .status(404)
          .send(
            errorPayload('NOT_FOUND', `the playground is not built (${indexFile} is missing); run \`npm run build\``),
          );
      for (const url of ['/', '/playground']) scope.get(url, missing);
      return;
    }
    const html = readFileSync(indexFile);
    const page = async (_request: unknown, reply: FastifyReply) =>
      reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html);
    for (const url of ['/', '/playground']) scope.get(url, page);
    await scope.register(fastifyStatic, {
      root,
      prefix: '/playground/assets/',
      decorateReply: false,
      index: false,
      cacheControl: true,
      maxAge: 0,
    });
  });
}
