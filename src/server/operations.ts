/**
 * What a running server does on signals: SIGHUP re-reads the key file and certificates; a stop
 * drains (unready, finish accepted work within the grace period) and then closes everything.
 */
import type { Logger } from 'pino';
import type { Access } from '../access.js';
import type { ServerParts } from './start.js';

/** Re-reads the API key file and the TLS certificates on SIGHUP; returns the handler's remover. */
export function onHangUp(access: Access, log: Logger): () => void {
  const handler = (): void => {
    log.info('SIGHUP: re-reading the API key file and TLS certificates');
    access.reload();
  };
  process.on('SIGHUP', handler);
  return () => process.off('SIGHUP', handler);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Unready but serving for the drain delay: endpoints controllers and load balancers need time to stop sending. */
async function leaveRotation(parts: ServerParts): Promise<void> {
  const { config, stacks, grpc, log } = parts;
  for (const s of stacks.values()) s.service.leaveRotation();
  grpc?.server.setServing(false);
  log.info({ drainDelayMs: config.drain.drainDelayMs }, 'not ready; serving until the drain starts');
  await delay(config.drain.drainDelayMs);
}

/** Graceful stop: unready, refuse new work, finish accepted work within the grace period, close all. */
export async function drain(parts: ServerParts): Promise<void> {
  const { config, stacks, grpc, log } = parts;
  if (config.drain.drainDelayMs > 0) await leaveRotation(parts);
  parts.chain.catalog.startDrain(); // readiness and gRPC health go false at once; new requests get 503
  for (const s of stacks.values()) s.service.startDrain();
  grpc?.server.setServing(false);
  log.info({ gracePeriodMs: config.drain.gracePeriodMs }, 'draining');
  const drainStart = performance.now();
  // Requests waiting on a model's load are in flight too: the listener stays open (new requests get 503).
  const busy = [...stacks.values()].map((s) => s.service.whenIdle().then(() => s.batcher.drain()));
  const idle = Promise.all([...busy, parts.repository.whenIdle()]).then(() => true);
  const inTime = await Promise.race([idle, delay(config.drain.gracePeriodMs).then(() => false)]);
  if (!inTime) log.info('grace period over; closing with requests still in flight');
  for (const s of stacks.values()) s.batcher.close();
  // The listeners close together (gRPC with a short grace when the work finished in time); then
  // everything else, last opened first.
  const closing = Promise.all([
    parts.http.close(),
    parts.metricsListener?.close(),
    grpc?.server.shutdown(inTime ? 1000 : 0),
  ]);
  if (!inTime) parts.app.server.closeAllConnections(); // grace over: requests still waiting (e.g. on a load) are cut
  await closing;
  // The whole drain within the grace period: a load still running (a 512 warm-up is ~10 s) is not waited for.
  parts.closeModelsBy.atMs = drainStart + config.drain.gracePeriodMs;
  await parts.lifecycle.close();
  log.info('stopped');
}
