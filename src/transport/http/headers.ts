/**
 * Response headers that describe an image. They must stay small whatever the request: proxies and
 * clients refuse header blocks past a few kB (Node's default limit is 16 kB), and a 1,000-class
 * mixture written out in full is about 26 kB. The full class vector is in the JSON answers.
 */

/** Most classes named in the X-Class header. */
export const X_CLASS_MAX_ENTRIES = 5;

/**
 * The X-Class and X-Class-Count values for a sample's non-zero class weights (keyed by class
 * index): the `X_CLASS_MAX_ENTRIES` heaviest classes as JSON (ties: lower index first), and how
 * many classes the vector has in all, so a client can tell when the header is a summary.
 */
export function classHeaders(weights: Readonly<Record<string, number>>): {
  'X-Class': string;
  'X-Class-Count': string;
} {
  const entries = Object.entries(weights);
  const top = entries.sort(([a, wa], [b, wb]) => wb - wa || Number(a) - Number(b)).slice(0, X_CLASS_MAX_ENTRIES);
  // Integer-like keys serialise in ascending order, as in the JSON answers.
  return { 'X-Class': JSON.stringify(Object.fromEntries(top)), 'X-Class-Count': String(entries.length) };
}
