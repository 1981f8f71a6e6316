/**
 * The prompt -> ImageNet classes matcher of the OpenAI-compatible API: word boundaries, longest
 * non-overlapping matches, plurals, WordNet ids, "class N", ambiguous everyday words, and the
 * closest names listed when a prompt names no class.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  classesOfPrompt,
  closestClassNames,
  pluralOf,
  words,
  AMBIGUOUS_WORDS,
} from '../../src/latents/prompt-classes.js';
import { BigGanError } from '../../src/errors.js';

const indexes = (prompt: string) => classesOfPrompt(prompt).map((c) => c.index);

/** The INVALID_ARGUMENT message a prompt gets (field `prompt`). */
function refusal(prompt: string): string {
  try {
    classesOfPrompt(prompt);
  } catch (err) {
    assert.ok(err instanceof BigGanError);
    assert.equal(err.code, 'INVALID_ARGUMENT');
    assert.equal(err.field, 'prompt');
    return err.message;
  }
  assert.fail(`expected ${JSON.stringify(prompt)} to be refused`);
}

test('a class name anywhere in the prompt, case-insensitive, with its name and the words that matched', () => {
  assert.deepEqual(classesOfPrompt('A Photo of a GOLDEN Retriever, at dusk'), [
    { index: 207, name: 'golden retriever', matched: 'golden retriever' },
  ]);
  assert.deepEqual(indexes('goldfish'), [1]);
});

test('word boundaries: a name inside a longer word does not match', () => {
  // "hen" (8) is inside "then" and "chicken"; "ant" (310) inside "elephant" and "giant"; "ram" (348) inside "program".
  assert.match(refusal('then the program ran'), /names no ImageNet class/);
  assert.deepEqual(indexes('an African elephant'), [386]);
});

test('longest non-overlapping matches first', () => {
  // "tennis ball" (852) wins over any shorter name inside it; "golden retriever" is one class.
  assert.deepEqual(indexes('a golden retriever playing with a tennis ball'), [207, 852]);
  // "great white shark" (2), not "white shark" then something else.
  assert.deepEqual(indexes('a great white shark'), [2]);
  // Hyphens and spaces are the same word boundary: "man-eater" is "man eater".
  assert.deepEqual(indexes('man-eater'), [2]);
  assert.deepEqual(indexes('man eater'), [2]);
});

test("plurals of a name's last word", () => {
  assert.equal(pluralOf('retriever'), 'retrievers');
  assert.equal(pluralOf('box'), 'boxes');
  assert.equal(pluralOf('lorry'), 'lorries');
  assert.equal(pluralOf('bus'), undefined, 'words ending in s are left alone');
  assert.deepEqual(indexes('three golden retrievers'), [207]);
  assert.deepEqual(indexes('tennis balls'), [852]);
  // "bars" is a class name itself (parallel bars, 702): the exact name wins over any plural.
  assert.deepEqual(indexes('parallel bars'), [702]);
});

test('WordNet ids and "class N" mentions; each class once, in order of first mention', () => {
  assert.deepEqual(indexes('n04409515 next to class 207'), [852, 207]);
  assert.deepEqual(indexes('class #207 and a golden retriever'), [207]);
  assert.match(refusal('class 1500'), /class indexes are 0\.\.999/);
});

test('a name shared by two classes means the lower index, as in the native API', () => {
  assert.deepEqual(indexes('a crane'), [134]);
});

test('everyday words that are also class names are not matched alone', () => {
  for (const w of ['light', 'ai', 'head']) assert.ok(AMBIGUOUS_WORDS.has(w));
  assert.deepEqual(indexes('soft light, AI art, a golden retriever head'), [207]);
  assert.match(refusal('soft light'), /names no ImageNet class/);
});

test('no class: the refusal lists the closest class names (typos, singulars), without the everyday words', () => {
  assert.match(refusal('a golden retreiver'), /closest class names: golden retriever \(207\)/);
  const dogs = refusal('three dogs');
  assert.match(dogs, /dog \(\d+\)/);
  assert.ok(!/light \(626\)/.test(refusal('soft light')));
  assert.deepEqual(closestClassNames(words('a of to')), []);
  assert.match(refusal('?!'), /e\.g\. "a golden retriever"/);
});

test('words: lower case, accents removed, split on anything but letters and digits', () => {
  assert.deepEqual(words("Jack-o'-Lantern, CAFÉ 207"), ['jack', 'o', 'lantern', 'cafe', '207']);
});
