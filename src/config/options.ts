/**
 * Declarative command-line options: one table per command gives each flag its type, default,
 * environment variable and help text side by side; parsing, env fallback, validation, the
 * `--help` text and the TypeScript type of the parsed values all come from that table.
 *
 * Declare a table with `defineOptions([...])` so its literal types are kept: then `parseOptions`
 * returns e.g. `{ 'http-port': number; weights: string | undefined; model: PresetName }` and
 * callers need no casts.
 */
import { parseArgs } from 'node:util';
import { BigGanError } from '../errors.js';

/** How a flag's text is converted. */
export type OptionType = 'string' | 'integer' | 'number' | 'boolean';

/** One flag of a command. */
export interface OptionSpec {
  /** Long name without dashes, kebab-case. */
  readonly name: string;
  readonly type: OptionType;
  readonly description: string;
  readonly env?: string;
  readonly default?: string | number | boolean;
  readonly short?: string;
  /** Allowed values for string options. */
  readonly choices?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  /** May be repeated; the value is then every occurrence, in order (an empty list when absent). */
  readonly multiple?: boolean;
  /** Must be given as a flag or through `env`; the value's type then excludes undefined. */
  readonly required?: boolean;
  /** Shown in help instead of the type, e.g. DIR. */
  readonly placeholder?: string;
  /** The settings group the flag belongs to (e.g. `http`): help lists it in that group's section. */
  readonly group?: string;
}

/** The value type of one option type (distributes over a union, so a general spec gives the union). */
type TypeValue<T extends OptionType> = T extends 'boolean' ? boolean : T extends 'string' ? string : number;

/** The parsed value of one spec: its choices or type, `undefined` unless it has a default or is required. */
export type OptionValue<S extends OptionSpec> =
  | (S extends { readonly multiple: true }
      ? string[]
      : S extends { readonly type: 'string'; readonly choices: readonly (infer C extends string)[] }
        ? C
        : TypeValue<S['type']>)
  | (S extends
      { readonly default: string | number | boolean } | { readonly required: true } | { readonly multiple: true }
      ? never
      : undefined);

/** The parsed values of a spec table, keyed by flag name. */
export type OptionValues<S extends readonly OptionSpec[]> = { -readonly [K in S[number] as K['name']]: OptionValue<K> };

/** Declares a spec table keeping its literal types (names, types, choices, defaults) for `parseOptions`. */
export function defineOptions<const S extends readonly OptionSpec[]>(specs: S): S {
  return specs;
}

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
    if (spec.choices && !spec.choices.includes(s))
      throw new UsageError(`${source}: '${s}' is not allowed; allowed: ${spec.choices.join(', ')}`);
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

const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

/**
 * `--flag -1` as `--flag=-1`: node's parseArgs takes any token starting with '-' for an option,
 * so a negative value (`--grpc-port -1`) would be refused as an unknown option `-1`. Only a value
 * that looks like a number is joined, and only after a flag that takes a value.
 */
function joinNegativeValues(argv: readonly string[], specs: readonly OptionSpec[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const spec = token.startsWith('--')
      ? specs.find((s) => `--${s.name}` === token)
      : specs.find((s) => s.short !== undefined && `-${s.short}` === token);
    const next = argv[i + 1];
    if (spec && spec.type !== 'boolean' && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`--${spec.name}=${next}`);
      i++;
    } else {
      out.push(token);
    }
  }
  return out;
}

/**
 * Parses argv against the specs. Precedence: flag, then environment variable, then default.
 * Returns the values keyed by flag name (typed by the table), the positional arguments, and
 * whether --help was asked for (required flags are not checked then).
 */
export function parseOptions<const S extends readonly OptionSpec[]>(
  argv: readonly string[],
  specs: S,
  env: NodeJS.ProcessEnv = process.env,
  allowPositionals = false,
): { values: OptionValues<S>; positionals: string[]; help: boolean } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const s of specs) {
    options[s.name] = {
      type: s.type === 'boolean' ? 'boolean' : 'string',
      ...(s.short ? { short: s.short } : {}),
      ...(s.multiple ? { multiple: true } : {}),
    };
  }
  let parsed: { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv, specs), options, allowPositionals: true, strict: true });
  } catch (err) {
    // parseArgs appends advice about '--' that only confuses here.
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  const help = parsed.values.help === true;
  if (!allowPositionals && parsed.positionals.length > 0) {
    throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
  }
  const values: Record<string, string | number | boolean | string[] | undefined> = {};
  for (const s of specs) {
    const raw = parsed.values[s.name];
    if (Array.isArray(raw) || s.multiple) {
      values[s.name] = (Array.isArray(raw) ? raw : []).map(String);
      continue;
    }
    if (raw !== undefined) values[s.name] = convert(s, raw, `--${s.name}`);
    else if (s.env && env[s.env] !== undefined && env[s.env] !== '') values[s.name] = convert(s, env[s.env]!, s.env);
    else values[s.name] = s.default;
    if (s.required && values[s.name] === undefined && !help) {
      throw new UsageError(
        `--${s.name}${s.placeholder ? ` ${s.placeholder}` : ''} is required${s.env ? ` (or set ${s.env})` : ''}`,
      );
    }
  }
  return { values: typedValues<S>(values), positionals: parsed.positionals, help };
}

/**
 * The one place the values meet their table-derived type: `parseOptions` filled every key of
 * `specs` with `convert`'s result for that spec's type and choices, a default, or undefined.
 */
function typedValues<S extends readonly OptionSpec[]>(values: Record<string, unknown>): OptionValues<S> {
  return values as OptionValues<S>;
}

/**
 * Renders a command's help: usage line, description, one line per flag with env and default, then
 * `epilogue`. With `sections` (group -> title, in the order shown) the flags are listed under their
 * group's title; flags without a listed group stay under "Options:".
 */
export function formatHelp(
  usage: string,
  description: string,
  specs: readonly OptionSpec[],
  epilogue = '',
  sections: Readonly<Record<string, string>> = {},
): string {
  const rows = specs.map((s) => ({ group: s.group, ...helpRow(s) }));
  rows.push({ group: undefined, left: '  -h, --help', right: 'Show this help.' });
  const width = Math.min(40, Math.max(...rows.map((r) => r.left.length)) + 2);
  const line = (r: { left: string; right: string }): string =>
    r.left.length + 1 > width ? `${r.left}\n${' '.repeat(width)}${r.right}` : `${r.left.padEnd(width)}${r.right}`;
  const titled = Object.keys(sections);
  const blocks = [
    ...titled.map((g) => ({ title: sections[g], rows: rows.filter((r) => r.group === g) })),
    { title: 'Options', rows: rows.filter((r) => r.group === undefined || !titled.includes(r.group)) },
  ].filter((b) => b.rows.length > 0);
  const body = blocks.map((b) => `${b.title}:\n${b.rows.map(line).join('\n')}\n`).join('\n');
  return `Usage: ${usage}\n\n${description}\n\n${body}${epilogue ? `\n${epilogue.trimEnd()}\n` : ''}`;
}

/** One flag's help line: the flag with its argument, and the description with env and default. */
function helpRow(s: OptionSpec): { left: string; right: string } {
  const arg =
    s.type === 'boolean' ? '' : ` ${s.placeholder ?? (s.choices ? s.choices.join('|') : s.type.toUpperCase())}`;
  const left = `  ${s.short ? `-${s.short}, ` : ''}--${s.name}${arg}`;
  const extra = [
    s.required ? 'required' : '',
    s.env ? `env ${s.env}` : '',
    s.default !== undefined ? `default ${JSON.stringify(s.default)}` : '',
  ]
    .filter(Boolean)
    .join('; ');
  return { left, right: `${s.description}${extra ? ` (${extra})` : ''}` };
}
