/**
 * GET query parameters -> the POST body's shape, so a GET is checked by the same contract with the
 * same messages. Only the spelling changes: numbers and booleans arrive as text, and a class
 * mixture is written `207:0.7,1:0.3`.
 */
import type { GenerateQuery } from '../../service/contract/schemas.js';

/** A decimal number as a number; anything else is left as text for the contract to refuse. */
function numberOf(text: string): number | string {
  return /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text.trim()) ? Number(text) : text;
}

/** `207`, `n02099601`, `golden retriever`, or a mixture `207:0.7,goldfish:0.3`. */
export function parseClassParam(text: string): number | string | Record<string, number | string> {
  if (/^\d+$/.test(text)) return Number(text);
  if (!text.includes(':')) return text;
  const mixture: Record<string, number | string> = {};
  for (const part of text.split(',')) {
    const at = part.lastIndexOf(':');
    const name = (at < 0 ? part : part.slice(0, at)).trim();
    const weight = at < 0 ? '1' : part.slice(at + 1);
    mixture[name] = numberOf(weight);
  }
  return mixture;
}

/** The POST body a GET query stands for (unchecked: pass it to the contract). */
export function queryToGenerateRequest(query: GenerateQuery): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (key === 'class') body.class = parseClassParam(value);
    else if (key === 'grid')
      body.grid = value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value;
    else if (key === 'seed') body.seed = /^\d+$/.test(value) ? value : numberOf(value);
    else if (key === 'format' || key === 'priority' || key === 'model') body[key] = value;
    else body[key] = numberOf(value);
  }
  return body;
}
