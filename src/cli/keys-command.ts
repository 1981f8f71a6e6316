/**
 * `biggan-serve keys new NAME [--images-per-second N] [--burst N] [--max-in-flight N]`: makes a
 * random API key, prints it once (it is stored nowhere), and prints the key file entry to add
 * (its SHA-256 and quota). `keys hash` turns an existing key (on stdin) into an entry.
 */
import { defineOptions, formatHelp, parseOptions, UsageError } from '../config/options.js';
import { keyEntry, newKey } from '../auth/key-file.js';

const OPTIONS = defineOptions([
  {
    name: 'images-per-second',
    type: 'number',
    min: 0.001,
    max: 1e6,
    description: 'Quota: images per second the key may generate (token-bucket refill rate); default: no rate limit.',
  },
  {
    name: 'burst',
    type: 'integer',
    min: 1,
    max: 1e6,
    description: 'Quota: images the key may send at once after idling (bucket size; default ceil(images-per-second)).',
  },
  {
    name: 'max-in-flight',
    type: 'integer',
    min: 1,
    max: 1e6,
    description: "Quota: most of the key's images queued or running at once (per replica).",
  },
]);

const USAGE = formatHelp(
  'biggan-serve keys new NAME [--images-per-second N] [--burst N] [--max-in-flight N]',
  'Makes a random API key named NAME. Prints the key once (keep it: it is stored nowhere) and the\nentry to add to the key file given to `serve --api-keys FILE`, which holds only its SHA-256.\nThe server re-reads the file on change (or on SIGHUP).',
  OPTIONS,
  `Key file format:
  {"keys": [{"name": "alice", "sha256": "<hex>", "imagesPerSecond": 2, "burst": 8, "maxInFlight": 16}]}
Clients send the key as "Authorization: Bearer KEY" (or "x-api-key: KEY"); gRPC clients as
"authorization: Bearer KEY" metadata.`,
);

/** Runs `fn`, turning its refusal of an argument into a usage error (exit code 2). */
function usage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/** Entry point of `biggan-serve keys`; resolves with the exit code. */
export async function keysCommand(argv: string[]): Promise<number> {
  const { values, positionals, help } = parseOptions(argv, OPTIONS, {}, true);
  if (help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [sub, name, ...extra] = positionals;
  if (sub !== 'new')
    throw new UsageError(
      sub === undefined ? 'missing subcommand: keys new NAME' : `unknown subcommand '${sub}'; try: keys new NAME`,
    );
  if (name === undefined) throw new UsageError('keys new needs a NAME (what logs and metrics will call the key)');
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
  if (values.burst !== undefined && values['images-per-second'] === undefined)
    throw new UsageError('--burst needs --images-per-second (the rate that refills it)');
  const key = newKey();
  const entry = usage(() =>
    keyEntry(name, key, {
      ...(values['images-per-second'] !== undefined ? { imagesPerSecond: values['images-per-second'] } : {}),
      ...(values.burst !== undefined ? { burst: values.burst } : {}),
      ...(values['max-in-flight'] !== undefined ? { maxInFlight: values['max-in-flight'] } : {}),
    }),
  );
  process.stdout.write(
    `API key for ${name} (shown once; give it to its user, store it nowhere else):\n${key}\n\nAdd this entry to the "keys" list of the key file:\n${JSON.stringify(entry)}\n`,
  );
  return 0;
}
