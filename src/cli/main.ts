#!/usr/bin/env node
/**
 * The `biggan-serve` command: dispatches to its subcommands. Each subcommand module exports an
 * async function taking argv and returning an exit code; errors are printed here, once.
 */
import { BigGanError } from '../errors.js';
import { UsageError } from '../config/options.js';
import { packageVersion } from '../package-root.js';

const COMMANDS: Record<string, { summary: string; load: () => Promise<(argv: string[]) => Promise<number>> }> = {
  serve: {
    summary: 'Serve the generator over REST and gRPC with dynamic batching.',
    load: async () => (await import('./serve-command.js')).serveCommand,
  },
  generate: {
    summary: 'Write PNGs for a class / truncation / seed, or for an inputs file.',
    load: async () => (await import('./generate-command.js')).generateCommand,
  },
  'init-random': {
    summary: 'Write a random-weight model (config.json + model.safetensors).',
    load: async () => (await import('./init-random-command.js')).initRandomCommand,
  },
  keys: {
    summary: 'Make an API key (keys new NAME) and its key file entry.',
    load: async () => (await import('./keys-command.js')).keysCommand,
  },
  dataset: {
    summary: 'Write a reproducible dataset as WebDataset tar shards (resumable, in parts).',
    load: async () => (await import('./dataset-command.js')).datasetCommand,
  },
  download: {
    summary: 'Download the published weights into the cache, with resume.',
    load: async () => (await import('./download-command.js')).downloadCommand,
  },
};

const USAGE = `Usage: biggan-serve <command> [options]

Serves DeepMind's BigGAN-deep image generator (128, 256, 512 px; 1000 ImageNet classes).

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(13)}${c.summary}`)
  .join('\n')}

Run 'biggan-serve <command> --help' for a command's options.
Options:
  -h, --help     Show this help.
  -v, --version  Print the version.
`;

/** Runs the CLI with `argv` (without node and script); returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(USAGE);
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === '--version' || cmd === '-v') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const command = COMMANDS[cmd];
  if (!command) {
    process.stderr.write(`biggan-serve: unknown command '${cmd}'; commands: ${Object.keys(COMMANDS).join(', ')}\n`);
    return 2;
  }
  try {
    const run = await command.load();
    return await run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`biggan-serve ${cmd}: ${err.message}\nRun 'biggan-serve ${cmd} --help' for usage.\n`);
      return 2;
    }
    if (err instanceof BigGanError) {
      process.stderr.write(`biggan-serve ${cmd}: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`biggan-serve ${cmd}: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // A failed command has printed its one message; a handle it could not close (a listener, a
    // worker) must not keep the process alive, or a failed start-up would never exit.
    if (code !== 0) setTimeout(() => process.exit(code), 2000).unref();
  },
  (err: unknown) => {
    process.stderr.write(`biggan-serve: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
