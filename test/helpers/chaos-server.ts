/**
 * The chaos suite's server process: the real `startServer` with the real engine wrapped in a
 * ChaosEngine, commanded over IPC (process.send). Run it with `--unhandled-rejections=strict`, so
 * an unhandled rejection ends the process and the suite sees it. Arguments are `serve` flags.
 *
 *   test -> server: ChaosCommand & { id }       server -> test: { ack: id } | ChaosEvent | { ready }
 */
import { parseServerConfig } from '../../src/config/server-config.js';
import { startServer } from '../../src/server/start.js';
import { createEngine } from '../../src/engine/create-engine.js';
import { ChaosEngine, type ChaosCommand, type ChaosEvent } from './chaos-engine.js';

const send = (msg: object): void => {
  process.send?.(msg);
};
let chaos: ChaosEngine | undefined;
const { config } = parseServerConfig(process.argv.slice(2));
const server = await startServer(config, {
  logger: false,
  createEngine: async (folded, opts) =>
    (chaos = new ChaosEngine(await createEngine(folded, opts), (e: ChaosEvent) => send(e))),
});
process.on('message', (m: ChaosCommand & { id: number }) => {
  chaos?.command(m);
  send({ ack: m.id });
});
// The test runner went away (killed, crashed): do not outlive it.
process.on('disconnect', () => process.exit(1));
process.on('SIGTERM', () => {
  void server.stop().then(() => process.exit(0));
});
send({ ready: true, httpPort: server.httpPort, grpcPort: server.grpcPort });
