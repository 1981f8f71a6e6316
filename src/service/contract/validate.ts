/**
 * Checking a request against its contract schema, with one message format for both transports:
 * `<field>: <what is allowed>, got <value>`, where the field is a path (`from.seed`, `class[2]`,
 * `z[0][5]`) and client values are quoted cut short. TypeBox's compiled checker finds the errors;
 * this module picks the most useful one and words it from the schema itself (ranges, allowed
 * values, allowed fields), so a limit written in the schema is also the limit named in the error.
 */
import { Compile, type Validator } from 'typebox/compile';
import type { Static, TSchema } from 'typebox';
import { invalidArgument, quoteValue, type BigGanError } from '../../errors.js';
import { firstOversize } from './sizes.js';

/** One error as TypeBox (ajv-compatible) reports it. */
interface SchemaError {
  readonly keyword: string;
  readonly schemaPath: string;
  readonly instancePath: string;
  readonly params: Record<string, unknown>;
  readonly message: string;
}

/** A client value for an error message, cut to a sane length (one wording for every message). */
export const quoted = (value: unknown): string => quoteValue(value);

/** JSON-pointer segments with ~0/~1 unescaped. */
function pointerParts(pointer: string): string[] {
  return pointer
    .replace(/^#/, '')
    .split('/')
    .filter((p) => p !== '')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Turns an instance path into a field name over the value: `/from/seed` -> `from.seed`, `/z/0/5` -> `z[0][5]`. */
export function fieldPath(instancePath: string, root: unknown): string {
  let at: unknown = root;
  let out = '';
  for (const part of pointerParts(instancePath)) {
    if (Array.isArray(at)) out += `[${part}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(part) && part.length <= 64) out += out === '' ? part : `.${part}`;
    else out += `[${quoted(part)}]`;
    at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[part] : undefined;
  }
  return out;
}

function valueAt(instancePath: string, root: unknown): unknown {
  let at: unknown = root;
  for (const part of pointerParts(instancePath)) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

function schemaAt(schemaPath: string, root: TSchema): Record<string, unknown> {
  let at: unknown = root;
  for (const part of pointerParts(schemaPath)) {
    if (at === null || typeof at !== 'object') return {};
    at = (at as Record<string, unknown>)[part];
  }
  return at !== null && typeof at === 'object' ? (at as Record<string, unknown>) : {};
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value); // NaN, Infinity (gRPC floats)
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

const TYPE_WORDS: Record<string, string> = {
  integer: 'an integer',
  number: 'a finite number',
  string: 'a string',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  null: 'null',
};

/** `a number in (0, 1]`, `an integer in 1..16`, `an integer >= 1` from a schema's bounds. */
function rangeText(schema: Record<string, unknown>): string {
  const kind = schema.type === 'integer' ? 'an integer' : 'a number';
  const {
    minimum: min,
    maximum: max,
    exclusiveMinimum: xmin,
    exclusiveMaximum: xmax,
  } = schema as Record<string, number | undefined>;
  const lo = xmin ?? min;
  const hi = xmax ?? max;
  if (lo !== undefined && hi !== undefined) {
    if (schema.type === 'integer' && xmin === undefined && xmax === undefined) return `${kind} in ${lo}..${hi}`;
    return `${kind} in ${xmin !== undefined ? '(' : '['}${lo}, ${hi}${xmax !== undefined ? ')' : ']'}`;
  }
  if (lo !== undefined) return `${kind} ${xmin !== undefined ? '>' : '>='} ${lo}`;
  if (hi !== undefined) return `${kind} ${xmax !== undefined ? '<' : '<='} ${hi}`;
  return kind;
}

/** Words one error (not an anyOf summary) as "must ..." naming what is allowed. */
function describe(e: SchemaError, schema: TSchema, value: unknown): string {
  const sub = schemaAt(e.schemaPath, schema);
  const got = `got ${quoted(value)}`;
  switch (e.keyword) {
    case 'type':
      return `must be ${TYPE_WORDS[String(e.params.type)] ?? String(e.params.type)}, got ${typeName(value)}`;
    case 'enum':
      return `must be one of ${(e.params.allowedValues as unknown[]).map((v) => String(v)).join(', ')}, ${got}`;
    case 'const':
      return `must be ${quoted(e.params.allowedValue)}, ${got}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `must be ${rangeText(sub)}, ${got}`;
    case 'minItems':
    case 'maxItems': {
      const n = Array.isArray(value) ? value.length : 0;
      const lo = typeof sub.minItems === 'number' ? sub.minItems : 0;
      return typeof sub.maxItems === 'number'
        ? `must hold ${lo}..${sub.maxItems} items, got ${n}`
        : `must hold at least ${lo} items, got ${n}`;
    }
    case 'minLength':
    case 'maxLength': {
      const n = typeof value === 'string' ? value.length : 0;
      const lo = typeof sub.minLength === 'number' ? sub.minLength : 0;
      return typeof sub.maxLength === 'number'
        ? `must be ${lo}..${sub.maxLength} characters, got ${n}`
        : `must be at least ${lo} characters, got ${n}`;
    }
    case 'minProperties':
    case 'maxProperties': {
      const n = value !== null && typeof value === 'object' ? Object.keys(value).length : 0;
      const lo = typeof sub.minProperties === 'number' ? sub.minProperties : 0;
      return typeof sub.maxProperties === 'number'
        ? `must have ${lo}..${sub.maxProperties} entries, got ${n}`
        : `must have at least ${lo} entries, got ${n}`;
    }
    case 'pattern':
      if (typeof sub.description === 'string') return `must be ${sub.description}, ${got}`;
      return sub.pattern === undefined
        ? `has the wrong form, ${got}`
        : `must be a decimal string (${String(sub.pattern)}), ${got}`;
    case 'required':
      return 'is required';
    default:
      return `${e.message}, ${got}`;
  }
}

/** The most useful error of a failed check, worded as `field: message`. */
export function explain(
  errors: readonly SchemaError[],
  schema: TSchema,
  value: unknown,
): { field: string; message: string } {
  // Unknown fields first: the clearest mistake, and the message lists what is allowed.
  const extra = errors.find((e) => e.keyword === 'additionalProperties');
  if (extra) {
    const names = extra.params.additionalProperties;
    const raw = Array.isArray(names) ? String(names[0]) : String(names);
    // The unknown name is the client's: shown as is only when it is a plain short identifier.
    const name = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(raw) ? raw : quoted(raw);
    const parent = fieldPath(extra.instancePath, value);
    const field = parent === '' ? name : `${parent}.${name}`;
    const allowed = Object.keys(
      (schemaAt(extra.schemaPath, schema).properties as Record<string, unknown> | undefined) ?? {},
    );
    return {
      field,
      message: `${field}: unknown field${allowed.length > 0 ? `; allowed fields: ${allowed.join(', ')}` : ''}`,
    };
  }
  const missing = errors.find((e) => e.keyword === 'required');
  if (missing) {
    const props = missing.params.requiredProperties ?? missing.params.missingProperty;
    const name = Array.isArray(props) ? String(props[0]) : String(props);
    const parent = fieldPath(missing.instancePath, value);
    const field = parent === '' ? name : `${parent}.${name}`;
    return { field, message: `${field}: is required` };
  }
  // Skip summaries ("must match a schema in anyOf") and "schema is false" echoes; prefer the deepest
  // error, and among errors at one place one whose type matched (a range, an enum, a length).
  const specific = errors.filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf' && e.keyword !== 'boolean');
  const depth = (e: SchemaError) => pointerParts(e.instancePath).length;
  const deepest = Math.max(...specific.map(depth));
  const atDeepest = specific.filter((e) => depth(e) === deepest);
  const best = atDeepest.find((e) => e.keyword !== 'type') ?? atDeepest[0];
  if (best === undefined) {
    const any = errors[0];
    const field = fieldPath(any?.instancePath ?? '', value) || 'body';
    return { field, message: `${field}: has the wrong form` };
  }
  const field = fieldPath(best.instancePath, value) || 'body';
  const here = valueAt(best.instancePath, value);
  if (best.keyword === 'type') {
    // Several alternatives, none of the right type: list them all.
    const types = [
      ...new Set(
        atDeepest
          .filter((e) => e.keyword === 'type')
          .map((e) => TYPE_WORDS[String(e.params.type)] ?? String(e.params.type)),
      ),
    ];
    if (types.length > 1)
      return {
        field,
        message: `${field}: must be ${types.slice(0, -1).join(', ')} or ${types[types.length - 1]}, got ${typeName(here)}`,
      };
  }
  return { field, message: `${field}: ${describe(best, schema, here)}` };
}

/** A compiled contract check: returns the value typed by its schema, or throws INVALID_ARGUMENT. */
export interface ContractCheck<T extends TSchema> {
  readonly schema: T;
  /** True when `value` satisfies the schema. */
  check(value: unknown): value is Static<T>;
  /** The first problem as an INVALID_ARGUMENT error, or undefined when `value` is valid. */
  problem(value: unknown): BigGanError | undefined;
  /** `value` typed by the schema; throws the INVALID_ARGUMENT of `problem` otherwise. */
  parse(value: unknown): Static<T>;
}

/** Compiles `schema` once (TypeBox's JIT checker); the result is cheap to call per request. */
export function compileContract<T extends TSchema>(schema: T): ContractCheck<T> {
  const compiled: Validator = Compile(schema);
  const check = (value: unknown): value is Static<T> => compiled.Check(value);
  const problem = (value: unknown): BigGanError | undefined => {
    if (compiled.Check(value)) return undefined;
    // Counts first: an oversized list is refused without a report of its every element.
    const big = firstOversize(schema, value);
    if (big) {
      const field = fieldPath(big.instancePath, value) || 'body';
      const what =
        big.kind === 'items' ? `must hold ${big.min}..${big.max} items` : `must have ${big.min}..${big.max} entries`;
      return invalidArgument(field, `${what}, got ${big.count}`);
    }
    const { field, message } = explain([...compiled.Errors(value)] as SchemaError[], schema, value);
    return invalidArgument(field, message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message);
  };
  return {
    schema,
    check,
    problem,
    parse(value: unknown): Static<T> {
      if (check(value)) return value;
      throw problem(value) ?? invalidArgument('body', 'is invalid');
    },
  };
}

/** The outcome of a contract check: the value typed by its schema, or the INVALID_ARGUMENT problem. */
export type CheckOutcome<T extends TSchema> =
  { readonly ok: true; readonly value: Static<T> } | { readonly ok: false; readonly problem: BigGanError };

/** Compiled checks, one per schema (compiling is the costly part); each value is checked once. */
export class ContractChecks {
  private readonly compiled = new WeakMap<TSchema, ContractCheck<TSchema>>();

  run<T extends TSchema>(schema: T, value: unknown): CheckOutcome<T> {
    let contract = this.compiled.get(schema) as ContractCheck<T> | undefined;
    if (contract === undefined) {
      contract = compileContract(schema);
      this.compiled.set(schema, contract);
    }
    if (contract.check(value)) return { ok: true, value };
    return { ok: false, problem: contract.problem(value) ?? invalidArgument('body', 'is invalid') };
  }
}

/** The compiled checks of every schema, shared by all transports. */
const CONTRACT_CHECKS = new ContractChecks();

/**
 * The one validation layer of every transport: checks `value` against a contract schema and
 * returns it typed, or throws INVALID_ARGUMENT naming the field and the allowed values. It counts
 * nothing: the transport counts the refusal at its exit.
 */
export function check<T extends TSchema>(schema: T, value: unknown): Static<T> {
  const outcome = CONTRACT_CHECKS.run(schema, value);
  if (!outcome.ok) throw outcome.problem;
  return outcome.value;
}
