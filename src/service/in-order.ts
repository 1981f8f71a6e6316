/**
 * Awaiting a list of promises in order without ever leaving one unhandled. Awaiting promises one
 * by one (`for (const p of ps) await p`) attaches a handler only to the one awaited: when it
 * rejects, the later ones reject unhandled and Node ends the process. Every per-sample or
 * per-frame list in the service goes through `eachInOrder`.
 */

/**
 * Calls `each` with every promise's value in list order, each as soon as it and all before it
 * have resolved; resolves with the values. Handlers are attached to every promise at once, so
 * rejects with the first failure (in list order) and no other promise is ever unhandled.
 */
export async function eachInOrder<T>(
  promises: readonly Promise<T>[],
  each?: (value: T, index: number) => void,
): Promise<T[]> {
  for (const p of promises) p.catch(() => undefined);
  const values: T[] = [];
  for (const [i, p] of promises.entries()) {
    const value = await p;
    values.push(value);
    each?.(value, i);
  }
  return values;
}
