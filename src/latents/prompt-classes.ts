/**
 * A text prompt to ImageNet classes, for the OpenAI-compatible images API. This is keyword
 * matching over the 1000 class names and synonyms (data/imagenet-classes.json), not a text
 * encoder: BigGAN is conditioned on a class vector only, so the only honest reading of a prompt is
 * which classes it names. Rules:
 * - case-insensitive, on word boundaries (words are runs of letters and digits, so "man-eater",
 *   "man eater" and "Man-Eater" are one phrase);
 * - longest matches first, never overlapping ("golden retriever" wins over a class named
 *   "retriever" would, "tennis ball" over "ball");
 * - plurals of a name's last word ("golden retrievers", "tennis balls", "butterflies") unless the
 *   plural is itself a class name ("bars" is parallel bars);
 * - WordNet ids ("n02099601") and "class 207" / "class #207";
 * - a name shared by two classes ("crane": 134 the bird, 517 the machine) means the lower index,
 *   as in the native API;
 * - a few names that are everyday words in prompts (AMBIGUOUS_WORDS: "light", "head", "AI") are
 *   not matched on their own; their classes stay reachable by their other names, index or id.
 * Each class counts once, in the order of its first mention.
 */
import { invalidArgument, quoteValue } from '../errors.js';
import { IMAGENET_NUM_CLASSES, listClasses, type ImageNetClass } from './imagenet-classes.js';

/** One class found in a prompt, with the words that named it. */
export interface PromptClass {
  readonly index: number;
  /** The class's main name (the first of its names). */
  readonly name: string;
  /** The prompt's words that matched (as written, lower case). */
  readonly matched: string;
}

/** Longest prompt read, characters (OpenAI's own limit for gpt-image-1 is 32000; names are short). */
export const MAX_PROMPT_CHARS = 32_000;
/** Closest class names listed when a prompt names none. */
const MAX_SUGGESTIONS = 5;

/**
 * Single-word class names that are everyday words in image prompts, where they almost never mean
 * the class ("soft light" is not a lighter, "a dog's head" not a headland, "AI art" not a sloth).
 */
export const AMBIGUOUS_WORDS: ReadonlySet<string> = new Set([
  'ai',
  'light',
  'head',
  'spot',
  'drop',
  'site',
  'rule',
  'safe',
  'pick',
  'hack',
  'mini',
  'semi',
  'sub',
  'file',
  'cell',
  'mail',
  'hip',
  'ear',
  'jack',
  'mike',
  'bars',
]);

/** The words of a text: lower case, accents removed, split on anything but letters and digits. */
export function words(text: string): string[] {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w !== '');
}

/** The plural of a simple English noun: box -> boxes, butterfly -> butterflies, dog -> dogs. */
export function pluralOf(word: string): string | undefined {
  // Only plain alphabetic words of 3+ letters; "s"-final words are often plural or Latin already.
  if (!/^[a-z]{3,}$/.test(word) || word.endsWith('s')) return undefined;
  if (/(x|z|ch|sh)$/.test(word)) return `${word}es`;
  if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  return `${word}s`;
}

interface PhraseIndex {
  /** Phrase (words joined by one space) -> class index. */
  readonly phrases: ReadonlyMap<string, number>;
  /** Most words in one phrase. */
  readonly maxWords: number;
  readonly byWnid: ReadonlyMap<string, number>;
  readonly classes: readonly ImageNetClass[];
  /** Each class's names as words, for suggestions (the everyday words left out). */
  readonly nameWords: readonly (readonly { name: string; words: readonly string[] }[])[];
}

let index: PhraseIndex | undefined;

/** Every name and synonym as a phrase, then the plurals that are not names themselves. */
function phraseIndex(): PhraseIndex {
  if (index) return index;
  const classes = listClasses();
  const phrases = new Map<string, number>();
  const plurals = new Map<string, number>();
  const byWnid = new Map<string, number>();
  const nameWords: { name: string; words: string[] }[][] = [];
  let maxWords = 1;
  for (const c of classes) {
    byWnid.set(c.wnid.toLowerCase(), c.index);
    nameWords.push([]);
    for (const name of c.names) {
      const w = words(name);
      if (w.length === 0 || (w.length === 1 && AMBIGUOUS_WORDS.has(w[0]))) continue;
      nameWords[c.index].push({ name, words: w });
      maxWords = Math.max(maxWords, w.length);
      // Classes come in index order: a shared name keeps the lower index (as resolveClass does).
      if (!phrases.has(w.join(' '))) phrases.set(w.join(' '), c.index);
      const plural = pluralOf(w[w.length - 1]);
      const key = plural && [...w.slice(0, -1), plural].join(' ');
      if (key && !plurals.has(key)) plurals.set(key, c.index);
    }
  }
  for (const [key, i] of plurals) if (!phrases.has(key)) phrases.set(key, i);
  index = { phrases, maxWords, byWnid, classes, nameWords };
  return index;
}

interface Match {
  readonly start: number;
  readonly length: number;
  readonly index: number;
}

/** Every phrase, WordNet id and "class N" mention in `w`, overlapping ones included. */
function candidates(w: readonly string[], t: PhraseIndex): Match[] {
  const out: Match[] = [];
  for (let start = 0; start < w.length; start++) {
    const wnid = /^n\d{8}$/.test(w[start]) ? t.byWnid.get(w[start]) : undefined;
    if (wnid !== undefined) out.push({ start, length: 1, index: wnid });
    if (w[start] === 'class' && start + 1 < w.length && /^\d{1,4}$/.test(w[start + 1])) {
      const i = Number(w[start + 1]);
      if (i >= IMAGENET_NUM_CLASSES)
        throw invalidArgument('prompt', `"class ${i}": class indexes are 0..${IMAGENET_NUM_CLASSES - 1}`);
      out.push({ start, length: 2, index: i });
    }
    for (let length = 1; length <= t.maxWords && start + length <= w.length; length++) {
      const i = t.phrases.get(w.slice(start, start + length).join(' '));
      if (i !== undefined) out.push({ start, length, index: i });
    }
  }
  return out;
}

/** Longest matches first (then leftmost), skipping any that overlaps one already taken; in prompt order. */
function longestFirst(all: readonly Match[], wordCount: number): Match[] {
  const taken = new Uint8Array(wordCount);
  const chosen: Match[] = [];
  const sorted = [...all].sort((a, b) => b.length - a.length || a.start - b.start);
  for (const m of sorted) {
    if (taken.subarray(m.start, m.start + m.length).some((x) => x === 1)) continue;
    taken.fill(1, m.start, m.start + m.length);
    chosen.push(m);
  }
  return chosen.sort((a, b) => a.start - b.start);
}

/**
 * The classes a prompt names, each once, in the order of first mention. Throws INVALID_ARGUMENT
 * on field `prompt` when it names none, listing the closest class names.
 */
export function classesOfPrompt(prompt: string): PromptClass[] {
  if (prompt.length > MAX_PROMPT_CHARS)
    throw invalidArgument('prompt', `must be at most ${MAX_PROMPT_CHARS} characters, got ${prompt.length}`);
  const t = phraseIndex();
  const w = words(prompt);
  const out: PromptClass[] = [];
  for (const m of longestFirst(candidates(w, t), w.length)) {
    if (out.some((c) => c.index === m.index)) continue;
    out.push({
      index: m.index,
      name: t.classes[m.index].names[0],
      matched: w.slice(m.start, m.start + m.length).join(' '),
    });
  }
  if (out.length > 0) return out;
  const close = closestClassNames(w);
  const hint =
    close.length > 0
      ? `closest class names: ${close.join(', ')}`
      : 'e.g. "a golden retriever", "class 207" or "n02099601"';
  throw invalidArgument(
    'prompt',
    'names no ImageNet class (prompts are matched against the 1000 class names and synonyms, ' +
      `not understood as text), got ${quoteValue(prompt)}; ${hint}`,
  );
}

/** Levenshtein distance of two short words (names and prompt words are at most a few dozen letters). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur.push(Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = cur;
  }
  return prev[b.length];
}

/** How close a prompt word is to a name word: 1 when equal, less per typo, 0 past a typo per 3 letters. */
function wordCloseness(p: string, n: string): number {
  if (p === n) return 1;
  if (p.length < 4 || Math.abs(p.length - n.length) > 2) return 0;
  const d = editDistance(p, n);
  return d <= Math.floor(p.length / 3) ? 1 - d / (p.length + 1) : 0;
}

/**
 * Up to MAX_SUGGESTIONS class names closest to a prompt's words: each name scores the share of
 * its words that some prompt word spells (exactly or with a typo per three letters); ties go to
 * the lower index. Words of two letters or fewer ("a", "of") are ignored.
 */
export function closestClassNames(promptWords: readonly string[]): string[] {
  // Singulars too ("dogs" is close to "dog"), since names are singular.
  const singulars = promptWords.flatMap((x) =>
    x.endsWith('s') ? [x.replace(/(ies|s)$/, (e) => (e === 'ies' ? 'y' : ''))] : [],
  );
  const pw = [...new Set([...promptWords, ...singulars].filter((x) => x.length > 2))].slice(0, 32);
  if (pw.length === 0) return [];
  // Name words repeat across classes ("dog", "shark"): each is compared with the prompt once.
  const closeness = new Map<string, number>();
  const closenessOf = (n: string): number => {
    let v = closeness.get(n);
    if (v === undefined) closeness.set(n, (v = Math.max(...pw.map((p) => wordCloseness(p, n)))));
    return v;
  };
  const scored: { score: number; label: string; index: number }[] = [];
  phraseIndex().nameWords.forEach((names, index) => {
    let best = 0;
    let bestName = '';
    for (const { name, words: nw } of names) {
      const score = nw.reduce((sum, n) => sum + closenessOf(n), 0) / nw.length;
      if (score > best) [best, bestName] = [score, name];
    }
    if (best > 0) scored.push({ score: best, label: `${bestName} (${index})`, index });
  });
  scored.sort((a, b) => b.score - a.score || a.index - b.index);
  return scored.slice(0, MAX_SUGGESTIONS).map((s) => s.label);
}
