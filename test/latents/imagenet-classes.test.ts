import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { IMAGENET_NUM_CLASSES, listClasses, resolveClass } from '../../src/latents/imagenet-classes.js';

describe('data/imagenet-classes.json', () => {
  const raw = JSON.parse(readFileSync(join(process.cwd(), 'data', 'imagenet-classes.json'), 'utf8')) as {
    index: number;
    wnid: string;
    names: string[];
  }[];

  it('holds 1000 classes in ILSVRC-2012 order: unique wnids, ascending, indexes 0..999', () => {
    assert.equal(raw.length, 1000);
    raw.forEach((c, i) => {
      assert.equal(c.index, i);
      assert.match(c.wnid, /^n\d{8}$/);
      assert.ok(c.names.length > 0 && c.names.every((n) => typeof n === 'string' && n.trim() === n && n.length > 0));
      // The ILSVRC-2012 class order is the wnids sorted.
      if (i > 0) assert.ok(c.wnid > raw[i - 1].wnid, `wnid order at ${i}`);
    });
    assert.equal(new Set(raw.map((c) => c.wnid)).size, 1000);
  });

  it('has the well-known anchors', () => {
    assert.deepEqual(raw[0], { index: 0, wnid: 'n01440764', names: ['tench', 'Tinca tinca'] });
    assert.deepEqual(raw[1], { index: 1, wnid: 'n01443537', names: ['goldfish', 'Carassius auratus'] });
    assert.deepEqual(raw[207], { index: 207, wnid: 'n02099601', names: ['golden retriever'] });
    assert.deepEqual(raw[309].names, ['bee']);
    assert.equal(raw[980].names[0], 'volcano');
    assert.deepEqual(raw[999], {
      index: 999,
      wnid: 'n15075141',
      names: ['toilet tissue', 'toilet paper', 'bathroom tissue'],
    });
  });

  it('is what listClasses serves', () => {
    const classes = listClasses();
    assert.equal(classes.length, IMAGENET_NUM_CLASSES);
    assert.deepEqual(
      classes.map((c) => ({ index: c.index, wnid: c.wnid, names: [...c.names] })),
      raw,
    );
    assert.ok(Object.isFrozen(classes) && Object.isFrozen(classes[0]));
  });
});

describe('resolveClass', () => {
  it('accepts indexes and numeric strings', () => {
    assert.equal(resolveClass(207, 'class', 1000), 207);
    assert.equal(resolveClass(0, 'class', 1000), 0);
    assert.equal(resolveClass('999', 'class', 1000), 999);
    assert.equal(resolveClass(' 207 ', 'class', 1000), 207);
  });

  it('accepts WordNet ids in any case', () => {
    assert.equal(resolveClass('n02099601', 'class', 1000), 207);
    assert.equal(resolveClass('N02099601', 'class', 1000), 207);
    assert.equal(resolveClass('n15075141', 'class', 1000), 999);
  });

  it('accepts names and synonyms, ignoring case, whitespace and underscores', () => {
    assert.equal(resolveClass('golden retriever', 'class', 1000), 207);
    assert.equal(resolveClass('Golden Retriever', 'class', 1000), 207);
    assert.equal(resolveClass('golden_retriever', 'class', 1000), 207);
    assert.equal(resolveClass('  golden   retriever ', 'class', 1000), 207);
    assert.equal(resolveClass('toilet paper', 'class', 1000), 999);
    assert.equal(resolveClass('Tinca tinca', 'class', 1000), 0);
    assert.equal(resolveClass('tench', 'class', 1000), 0);
    assert.equal(resolveClass("devil's darning needle", 'class', 1000), 319);
  });

  it('resolves a name shared by two classes to the lower index', () => {
    assert.equal(resolveClass('crane', 'class', 1000), 134); // 134 the bird, 517 the machine
    assert.equal(resolveClass('maillot', 'class', 1000), 638); // 638 and 639 (maillot, tank suit)
    assert.equal(resolveClass('tank suit', 'class', 1000), 639);
    assert.equal(resolveClass('n03126707', 'class', 1000), 517); // the other crane, by WordNet id
  });

  it('rejects out-of-range or fractional indexes stating the range', () => {
    for (const bad of [-1, 1000, 2.5, NaN, '1000', '-1', '2.5']) {
      assert.throws(
        () => resolveClass(bad, 'class', 1000),
        {
          name: 'BigGanError',
          code: 'INVALID_ARGUMENT',
          field: 'class',
          message: /^class: class index must be an integer in 0\.\.999/,
        },
        String(bad),
      );
    }
    assert.throws(() => resolveClass(10, 'class[1]', 10), { field: 'class[1]', message: /0\.\.9, got 10/ });
  });

  it('suggests close matches for an unknown name', () => {
    assert.throws(() => resolveClass('golden retreiver', 'class', 1000), {
      code: 'INVALID_ARGUMENT',
      field: 'class',
      message: /^class: unknown class "golden retreiver"; did you mean: golden retriever \(207\)/,
    });
    // Substring matches count too, and at most 5 are listed.
    assert.throws(
      () => resolveClass('terrier', 'class', 1000),
      (e: Error) => {
        const listed = /did you mean: (.*)\?$/.exec(e.message)?.[1].split(', ') ?? [];
        assert.equal(listed.length, 5);
        assert.ok(
          listed.every((s) => /terrier.* \(\d+\)$/i.test(s)),
          e.message,
        );
        return true;
      },
    );
    assert.throws(() => resolveClass('qqqqqqqqqqqqqq', 'class', 1000), {
      message: /unknown class "qqqqqqqqqqqqqq"; give a class index 0\.\.999/,
    });
  });

  it('rejects unknown WordNet ids and empty strings', () => {
    assert.throws(() => resolveClass('n00000000', 'class', 1000), {
      field: 'class',
      message: /unknown WordNet id "n00000000"/,
    });
    assert.throws(() => resolveClass('  ', 'class', 1000), { field: 'class', message: /empty string/ });
  });

  it('rejects non-string, non-number specs without crashing', () => {
    for (const bad of [null, undefined, true, {}, []]) {
      assert.throws(() => resolveClass(bad as unknown as string, 'class', 1000), {
        code: 'INVALID_ARGUMENT',
        field: 'class',
      });
    }
  });

  it('allows only indexes for a model without the 1000 ImageNet classes', () => {
    assert.equal(resolveClass(3, 'class', 10), 3);
    assert.equal(resolveClass('3', 'class', 10), 3);
    assert.throws(() => resolveClass('golden retriever', 'class', 10), {
      field: 'class',
      message: /this model has 10 classes without ImageNet names; give a class index in 0\.\.9/,
    });
    assert.throws(() => resolveClass('n02099601', 'class', 10), { message: /10 classes without ImageNet names/ });
  });
});
