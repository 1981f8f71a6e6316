/** The model's classes (from GET /v1/classes): search over names, synonyms, WordNet ids and indices. */

/** One class as /v1/classes lists it (names[0] is the main name). */
export interface ClassEntry {
  readonly index: number;
  readonly wnid: string;
  readonly names: readonly string[];
}

/** One autocomplete match: the class and the name that matched (a synonym or the main name). */
export interface ClassMatch {
  readonly entry: ClassEntry;
  readonly matched: string;
  readonly score: number;
}

/** Lower-case with spaces, underscores and hyphens folded to one space. */
function norm(s: string): string {
  return s
    .toLowerCase()
    .replace(/[\s_-]+/g, ' ')
    .trim();
}

/** The main name of a class, or `class N` for a model without names. */
export function mainName(e: ClassEntry): string {
  return e.names[0] ?? `class ${e.index}`;
}

/** Scores one name against the query: 0 exact, 1 prefix, 2 word prefix, 3 substring, -1 no match. */
function scoreName(name: string, q: string): number {
  const n = norm(name);
  if (n === q) return 0;
  if (n.startsWith(q)) return 1;
  if (n.split(' ').some((w) => w.startsWith(q))) return 2;
  return n.includes(q) ? 3 : -1;
}

/** The best `limit` classes for a query, best first (ties: shorter name, then lower index). */
export function searchClasses(classes: readonly ClassEntry[], query: string, limit = 8): ClassMatch[] {
  const q = norm(query);
  if (!q) return [];
  const out: ClassMatch[] = [];
  for (const entry of classes) {
    let best: ClassMatch | undefined;
    if (/^\d+$/.test(q) && String(entry.index) === q) best = { entry, matched: mainName(entry), score: 0 };
    else if (entry.wnid && entry.wnid.toLowerCase().startsWith(q))
      best = { entry, matched: entry.wnid, score: entry.wnid.toLowerCase() === q ? 0 : 1 };
    for (const name of entry.names) {
      const s = scoreName(name, q);
      if (s >= 0 && (!best || s < best.score)) best = { entry, matched: name, score: s };
    }
    if (best) out.push(best);
  }
  out.sort((a, b) => a.score - b.score || a.matched.length - b.matched.length || a.entry.index - b.entry.index);
  return out.slice(0, limit);
}

/** The class a typed text names exactly (index, WordNet id or any name), if any. */
export function resolveClass(classes: readonly ClassEntry[], text: string): ClassEntry | undefined {
  const q = norm(text);
  if (!q) return undefined;
  if (/^\d+$/.test(q)) return classes.find((e) => e.index === Number(q));
  return classes.find((e) => e.wnid.toLowerCase() === q || e.names.some((n) => norm(n) === q));
}
