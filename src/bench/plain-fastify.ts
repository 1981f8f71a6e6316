/**
 * The baseline of the cache-hit bench (issue 20): a plain fastify process answering
 * `GET /generate` with fixed bytes and headers (the service's own answer to the measured URL,
 * read from a JSON file), no hooks, no logger. What a hit could cost at best on this framework.
 *
 * Run as `node dist/src/bench/plain-fastify.js FILE`; prints `listening PORT` once ready.
 */
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

/** What the baseline answers: the body (base64) and the headers the service sent with it. */
export interface PlainAnswer {
  readonly bodyBase64: string;
  readonly headers: Record<string, string>;
}

async function main(file: string): Promise<void> {
  const answer = JSON.parse(readFileSync(file, 'utf8')) as PlainAnswer;
  const body = Buffer.from(answer.bodyBase64, 'base64');
  const app = Fastify({ logger: false });
  app.get('/generate', (_request, reply) => {
    reply.headers(answer.headers);
    return reply.send(body);
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : -1}\n`);
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

main(process.argv[2] ?? '').catch((err: unknown) => {
  process.stderr.write(`plain-fastify: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
