/**
 * Declarative command-line options: one table per command gives each flag its type, default,
 * environment variable and help text side by side; parsing, env fallback, validation and the
 * `--help` text all come from that table.
 */
import { parseArgs } from 'node:util';
import { BigGanError } from '../errors.js';

/** One flag of a command. */
export interface OptionSpec {
  readonly name: string; // long name without dashes, kebab-case
  readonly type: 'string' | 'integer' | 'number' | 'boolean';
  readonly description: string;
  readonly env?: string;
  readonly default?: string | number | boolean;
  readonly short?: string;
  /** Allowed values for string options. */
  readonly choices?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  readonly multiple?: boolean;
  /** Shown in help instead of the type, e.g. DIR. */
  readonly placeholder?: string;
}

export type OptionValues = Record<string, string | number | boolean | string[] | undefined>;

/** A usage error (exit code 2): a bad flag or value. */
export class UsageError extends BigGanError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
    this.name = 'UsageError';
  }
}

function convert(spec: OptionSpec, raw: string | boolean, source: string): string | number | boolean {
  if (spec.type === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    const v = raw.toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    throw new UsageError(`${source}: expected true or false, got '${raw}'`);
  }
  const s = String(raw);
  if (spec.type === 'string') {
    if (spec.choices && !spec.choices.includes(s)) throw new UsageError(`${source}: '${s}' is not allowed; allowed: ${spec.choices.join(', ')}`);
    return s;
  }
  const n = Number(s);
  if (s.trim() === '' || !Number.isFinite(n) || (spec.type === 'integer' && !Number.isInteger(n))) {
    throw new UsageError(`${source}: expected ${spec.type === 'integer' ? 'an integer' : 'a number'}, got '${s}'`);
  }
  if (spec.min !== undefined && n < spec.min) throw new UsageError(`${source}: must be >= ${spec.min}, got ${n}`);
  if (spec.max !== undefined && n > spec.max) throw new UsageError(`${source}: must be <= ${spec.max}, got ${n}`);
  return n;
}

/** A negative number as a command-line value ("-1", "-0.5", "-1e3"). */
const NEGATIVE_NUMBER = /^-(?:\d|\.\d)/;

/**
 * argv with each value-taking flag followed by a negative number joined into one token
 * (`--grpc-port -1` -> `--grpc-port=-1`, `-p -1` -> `-p-1`): node:util's parseArgs reads a
 * token starting with "-" as a flag, so "-1" would be an unknown option.
 */
function joinNegativeValues(argv: readonly string[], specs: readonly OptionSpec[]): string[] {
  const takesValue = (s: OptionSpec) => s.type !== 'boolean';
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    const next = argv[i + 1];
    if (token === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const long = token.startsWith('--') && !token.includes('=') ? specs.find((s) => s.name === token.slice(2)) : undefined;
    const short = /^-[^-]$/.test(token) ? specs.find((s) => s.short === token.slice(1)) : undefined;
    const spec = long ?? short;
    if (spec && takesValue(spec) && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(long ? `${token}=${next}` : `${token}${next}`);
      i++;
    } else {
      out.push(token);
    }
  }
  return out;
}

/**
 * Parses argv against the specs. Precedence: flag, then environment variable, then default.
 * Returns the values keyed by flag name and the positional arguments.
 */
export function parseOptions(
  argv: readonly string[],
  specs: readonly OptionSpec[],
  env: NodeJS.ProcessEnv = process.env,
  allowPositionals = false,
): { values: OptionValues; positionals: string[]; help: boolean } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const s of specs) {
    options[s.name] = { type: s.type === 'boolean' ? 'boolean' : 'string', ...(s.short ? { short: s.short } : {}), ...(s.multiple ? { multiple: true } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv, specs), options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (!allowPositionals && parsed.positionals.length > 0) {
    throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
  }
  const values: OptionValues = {};
  for (const s of specs) {
    const raw = parsed.values[s.name] as string | boolean | string[] | undefined;
    if (s.multiple) {
      values[s.name] = raw as string[] | undefined;
      continue;
    }
    if (raw !== undefined) values[s.name] = convert(s, raw as string | boolean, `--${s.name}`);
    else if (s.env && env[s.env] !== undefined && env[s.env] !== '') values[s.name] = convert(s, env[s.env]!, s.env);
    else values[s.name] = s.default;
  }
  return { values, positionals: parsed.positionals, help: parsed.values.help === true };
}

/** Renders a command's help: usage line, description, then one line per flag with env and default. */
export function formatHelp(usage: string, description: string, specs: readonly OptionSpec[]): string {
  const rows = specs.map((s) => {
    const arg = s.type === 'boolean' ? '' : ` ${s.placeholder ?? (s.choices ? s.choices.join('|') : s.type.toUpperCase())}`;
    const left = `  ${s.short ? `-${s.short}, ` : ''}--${s.name}${arg}`;
    const extra = [s.env ? `env ${s.env}` : '', s.default !== undefined ? `default ${JSON.stringify(s.default)}` : ''].filter(Boolean).join('; ');
    return { left, right: `${s.description}${extra ? ` (${extra})` : ''}` };
  });
  rows.push({ left: '  -h, --help', right: 'Show this help.' });
  const width = Math.min(40, Math.max(...rows.map((r) => r.left.length)) + 2);
  const lines = rows.map((r) => (r.left.length + 1 > width ? `${r.left}\n${' '.repeat(width)}${r.right}` : `${r.left.padEnd(width)}${r.right}`));
  return `Usage: ${usage}\n\n${description}\n\nOptions:\n${lines.join('\n')}\n`;
}
