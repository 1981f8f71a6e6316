/**
 * `biggan-serve serve`: runs the server until SIGTERM/SIGINT, then drains gracefully and exits 0.
 */
import { parseServerConfig, SERVE_USAGE } from '../config/server-config.js';
import { startServer } from '../server/start.js';

/** Entry point of `biggan-serve serve`; resolves with the exit code after shutdown. */
export async function serveCommand(argv: string[]): Promise<number> {
  const { config, help } = parseServerConfig(argv);
  if (help) {
    process.stdout.write(SERVE_USAGE);
    return 0;
  }
  const server = await startServer(config);
  return new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.stderr.write(`biggan-serve: ${signal}: draining (grace period ${config.drain.gracePeriodMs} ms)\n`);
      server.stop().then(
        () => resolve(0),
        (err: unknown) => {
          process.stderr.write(`biggan-serve: error while stopping: ${(err as Error).message}\n`);
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
}
