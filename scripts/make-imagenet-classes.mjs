#!/usr/bin/env node
// Regenerates data/imagenet-classes.json: the 1000 ILSVRC-2012 classes as {index, wnid, names}.
//
// Sources (both from registries this project can reach; neither is a dependency):
//   1. the class names in ILSVRC-2012 order, from the npm package @tensorflow-models/mobilenet
//      (dist/imagenet_classes.js, IMAGENET_CLASSES: index -> "tench, Tinca tinca"):
//        npm pack @tensorflow-models/mobilenet@2.1.1 && tar xzf tensorflow-models-mobilenet-2.1.1.tgz
//   2. the WordNet 3.0 noun database (ImageNet's wnid is "n" + the 8-digit synset offset there),
//      from the Debian package wordnet-base:
//        apt-get download wordnet-base && dpkg-deb -x wordnet-base_*.deb wn
//
// Usage: node scripts/make-imagenet-classes.mjs package/dist/imagenet_classes.js \
//          wn/usr/share/wordnet/data.noun > data/imagenet-classes.json
//
// Each class is matched to the WordNet synset whose lemma list equals its names (compared on
// letters and digits only, lower-cased, since mobilenet's copy has a cosmetic edit or two); the
// names written out are WordNet's lemmas, as ILSVRC's own synset list spells them. Names shared by
// several synsets ("crane": the bird and the machine) are settled by the ILSVRC order where it can
// (classes are sorted by wnid, so the one candidate between its neighbours' wnids is right), else
// by the PINNED table below. The script fails loudly unless every class gets exactly one wnid and
// all 1000 come out strictly ascending (hence unique).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const [classesJs, dataNoun] = process.argv.slice(2);
if (!classesJs || !dataNoun) {
  console.error('usage: make-imagenet-classes.mjs <mobilenet imagenet_classes.js> <wordnet data.noun>');
  process.exit(2);
}

const require = createRequire(import.meta.url);
const { IMAGENET_CLASSES } = require(resolve(classesJs));
const names = Array.from({ length: 1000 }, (_, i) => {
  const s = IMAGENET_CLASSES[i];
  if (typeof s !== 'string') throw new Error(`class ${i} missing from ${classesJs}`);
  return s
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n.length > 0);
});

// Loose key: mobilenet's copy has a few cosmetic edits ("jelly fish" for "jellyfish"), so letters
// and digits only, lower-cased.
const loose = (n) => n.toLowerCase().replace(/[^a-z0-9]/g, '');
const key = (list) => list.map(loose).join('|');

// data.noun line: "<offset> <lex_filenum> <ss_type> <w_cnt hex> <word> <lex_id> ... | gloss"
const byLemmas = new Map();
for (const line of readFileSync(dataNoun, 'utf8').split('\n')) {
  if (line.length === 0 || line.startsWith(' ')) continue; // licence header lines start with spaces
  const f = line.split(' ');
  const count = parseInt(f[3], 16);
  const lemmas = [];
  for (let j = 0; j < count; j++) lemmas.push(f[4 + 2 * j].replace(/_/g, ' '));
  const k = key(lemmas);
  const list = byLemmas.get(k) ?? [];
  list.push({ wnid: `n${f[0]}`, lemmas });
  byLemmas.set(k, list);
}

const missing = [];
const candidates = names.map((n, i) => {
  const c = byLemmas.get(key(n));
  if (!c) missing.push(`class ${i} "${n.join(', ')}": no WordNet synset has these lemmas`);
  return c ? [...c].sort((a, b) => (a.wnid < b.wnid ? -1 : 1)) : [];
});
if (missing.length > 0) throw new Error(missing.join('\n'));

// Classes whose lemmas name several synsets that the order cannot separate (homographs next to
// each other in WordNet, e.g. "cannon" the gun and "cannon" the armour): the wnid ILSVRC-2012 uses,
// as listed in its published synset list (LOC_synset_mapping.txt / synset_words.txt).
const PINNED = {
  102: 'n01872401',
  398: 'n02666196',
  411: 'n02730930',
  417: 'n02782093',
  431: 'n02804414',
  438: 'n02815834',
  443: 'n02834397',
  456: 'n02879718',
  471: 'n02950826',
  488: 'n02999410',
  501: 'n03045698',
  544: 'n03259280',
  549: 'n03291819',
  586: 'n03478589',
  587: 'n03481172',
  594: 'n03495258',
  597: 'n03527444',
  624: 'n03661043',
  643: 'n03724870',
  664: 'n03782006',
  698: 'n03877845',
  718: 'n03933933',
  727: 'n03956157',
  733: 'n03976657',
  745: 'n04009552',
  753: 'n04040759',
  758: 'n04067472',
  766: 'n04111531',
  771: 'n04125021',
  780: 'n04147183',
  783: 'n04153751',
  792: 'n04208210',
  813: 'n04270147',
  815: 'n04275548',
  816: 'n04277352',
  830: 'n04336792',
  866: 'n04465501',
  902: 'n04579432',
  910: 'n04597913',
  982: 'n10148035',
  987: 'n12144580',
};

const picked = candidates.map((c, i) => {
  if (PINNED[i] === undefined) return c.length === 1 ? c[0] : undefined;
  const p = c.find((x) => x.wnid === PINNED[i]);
  if (!p)
    throw new Error(`class ${i}: pinned ${PINNED[i]} is not among its synsets (${c.map((x) => x.wnid).join(' ')})`);
  return p;
});
// Settle the other ambiguous classes from the order: each wnid must lie between its neighbours'.
for (let i = 0; i < 1000; i++) {
  if (picked[i] !== undefined) continue;
  const lo = picked.slice(0, i).findLast((p) => p !== undefined)?.wnid ?? '';
  const hi = picked.slice(i + 1).find((p) => p !== undefined)?.wnid ?? 'z';
  const fit = candidates[i].filter((p) => p.wnid > lo && p.wnid < hi);
  if (fit.length !== 1) {
    throw new Error(
      `class ${i} "${names[i].join(', ')}": ${fit.length} candidates fit the order (${candidates[i].map((p) => p.wnid).join(' ')})`,
    );
  }
  picked[i] = fit[0];
}
for (let i = 1; i < 1000; i++) {
  if (!(picked[i].wnid > picked[i - 1].wnid))
    throw new Error(`wnids not strictly ascending at ${i}: ${picked[i - 1].wnid} ${picked[i].wnid}`);
}

// Names are WordNet's lemmas, as ILSVRC's own synset list spells them.
const out = picked.map((p, index) => ({ index, wnid: p.wnid, names: p.lemmas }));
// One class per line: diffs of the data stay readable.
process.stdout.write('[\n' + out.map((c) => '  ' + JSON.stringify(c)).join(',\n') + '\n]\n');
