/**
 * Sizes before elements: the first list or object of a value that holds more items than its schema
 * allows, found without looking at any element of an oversized container. A full error report of a
 * 200,000-item class list (TypeBox's Errors, which tries every union alternative on every item) took
 * seconds of the event loop; this walk takes the length of each container on the schema's paths.
 */
import type { TSchema } from 'typebox';

type Schema = Record<string, unknown>;

/** What is too big: the JSON-pointer path of the container, its size and the schema's bound. */
export interface Oversize {
  readonly instancePath: string;
  readonly kind: 'items' | 'entries';
  readonly count: number;
  readonly min: number;
  readonly max: number;
}

/** The first container in `value` larger than `schema` allows, or undefined. */
export function firstOversize(schema: TSchema, value: unknown): Oversize | undefined {
  return walk(schema as Schema, value, '', 0);
}

function walk(schema: Schema, value: unknown, at: string, depth: number): Oversize | undefined {
  if (depth > 16 || value === null || typeof value !== 'object') return undefined;
  if (schema.anyOf || schema.oneOf) {
    // A value too big for every alternative of its kind is too big; report the first such bound.
    const fitting = alternativesOf(schema).filter((alt) =>
      Array.isArray(value) ? alt.type === 'array' : alt.type === 'object',
    );
    const found = fitting.map((alt) => walk(alt, value, at, depth + 1));
    return found.length > 0 && found.every((f) => f !== undefined) ? found[0] : undefined;
  }
  if (Array.isArray(value)) {
    const max = schema.maxItems;
    if (typeof max === 'number' && value.length > max) {
      return {
        instancePath: at,
        kind: 'items',
        count: value.length,
        min: typeof schema.minItems === 'number' ? schema.minItems : 0,
        max,
      };
    }
    const items = schema.items as Schema | undefined;
    if (!items || !containsContainers(items)) return undefined;
    for (let i = 0; i < value.length; i++) {
      const found = walk(items, value[i], `${at}/${i}`, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  const keys = Object.keys(value);
  const max = schema.maxProperties;
  if (typeof max === 'number' && keys.length > max) {
    return {
      instancePath: at,
      kind: 'entries',
      count: keys.length,
      min: typeof schema.minProperties === 'number' ? schema.minProperties : 0,
      max,
    };
  }
  const properties = schema.properties as Record<string, Schema> | undefined;
  if (!properties) return undefined;
  for (const key of keys) {
    const sub = Object.hasOwn(properties, key) ? properties[key] : undefined;
    const found = sub ? walk(sub, (value as Record<string, unknown>)[key], `${at}/${key}`, depth + 1) : undefined;
    if (found) return found;
  }
  return undefined;
}

/** The alternatives of a union, nested unions flattened. */
function alternativesOf(schema: Schema): Schema[] {
  const alternatives = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  return alternatives ? alternatives.flatMap(alternativesOf) : [schema];
}

function containsContainers(schema: Schema): boolean {
  return (
    schema.type === 'array' || schema.type === 'object' || schema.anyOf !== undefined || schema.oneOf !== undefined
  );
}
