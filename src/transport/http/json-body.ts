/**
 * Request bodies as JSON, bounded before parsing. JSON.parse of a 2.4 MB body with 150,000 keys
 * takes about 100 ms of the event loop, and the checks after it more, so four such bodies at once
 * starved /healthz for seconds. One linear pass over the text first (a few ms per MB) refuses:
 * - bodies holding more values than the largest valid request can (`maxValues`), naming the
 *   top-level field where the count ran over;
 * - keys that could reach an object's prototype (`__proto__`, `constructor`), named;
 * - a key given twice in one object (JSON allows it and the last one would silently win; a
 *   request is refused rather than guessed);
 * - nesting deeper than any request has.
 * It stops at the first problem. Only a body that passes is parsed. Hand-written: the JSON
 * libraries on npm either parse first (secure-json-parse) or stream events per token, which is the
 * per-element work this pass exists to avoid.
 */
import type { FastifyInstance } from 'fastify';
import { quoteValue } from '../../errors.js';

/** Deepest nesting of a valid request: body -> z -> row -> value, with room to spare. */
const MAX_DEPTH = 8;

/** Keys refused anywhere in a body: with them, a merge or lookup could reach Object.prototype. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** The first problem of a JSON text, or undefined. Values are counted as containers plus separators. */
export function scanJson(text: string, maxValues: number): { field: string; message: string } | undefined {
  const stack: ({ keys: Set<string>; expectKey: boolean } | null)[] = []; // null: an array
  let values = 0;
  let topField = 'body';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const end = stringEnd(text, i);
      if (end < 0) return undefined; // unterminated: JSON.parse words the syntax error
      const top = stack[stack.length - 1];
      if (top && top.expectKey) {
        const raw = text.slice(i + 1, end);
        const key = raw.includes('\\') ? unescapeKey(raw) : raw;
        const field = stack.length === 1 ? key : topField;
        if (FORBIDDEN_KEYS.has(key))
          return keyProblem(
            field,
            `key ${quoteValue(key)} is refused (it could reach the object prototype); no request field has this name`,
          );
        if (top.keys.has(key))
          return keyProblem(field, `key ${quoteValue(key)} appears twice in one object; give each key once`);
        top.keys.add(key);
        top.expectKey = false;
        if (stack.length === 1) topField = key;
      }
      i = end;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= MAX_DEPTH)
        return { field: topField, message: `${topField}: nested deeper than ${MAX_DEPTH} levels; no request field is` };
      stack.push(c === 0x7b ? { keys: new Set(), expectKey: true } : null);
      values++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      values++;
      const top = stack[stack.length - 1];
      if (top) top.expectKey = true;
    } else continue;
    if (values > maxValues) {
      return {
        field: topField,
        message: `${topField}: the body holds more than ${maxValues} values, more than the largest valid request; send fewer samples or shorter rows`,
      };
    }
  }
  return undefined;
}

function keyProblem(field: string, what: string): { field: string; message: string } {
  return { field, message: `${field}: ${what}` };
}

/** Index of the quote closing the string opened at `start`, or -1. */
function stringEnd(text: string, start: number): number {
  let at = start;
  for (;;) {
    at = text.indexOf('"', at + 1);
    if (at < 0) return -1;
    let slashes = 0;
    while (text.charCodeAt(at - 1 - slashes) === 0x5c) slashes++;
    if (slashes % 2 === 0) return at;
  }
}

function unescapeKey(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}

/**
 * A client error shaped like fastify's own (status 400), so the HTTP error handler answers and
 * counts it as every other malformed body (INVALID_ARGUMENT, the message naming the field).
 */
function refused(message: string): Error {
  return Object.assign(new Error(message), { statusCode: 400, code: 'BIGGAN_ERR_BODY_REFUSED' });
}

/** Replaces fastify's JSON body parser by the bounded one (fastify's body limit still applies first). */
export function registerJsonBody(app: FastifyInstance, maxValues: number): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    if (text.length === 0)
      return done(refused(`body: cannot be empty when content-type is set to 'application/json'`), undefined);
    const problem = scanJson(text, maxValues);
    if (problem) return done(refused(problem.message), undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(refused(`body: is not valid JSON (${(err as Error).message})`), undefined);
    }
  });
}
