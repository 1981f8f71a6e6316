import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BigGanError, invalidArgument } from '../../../src/errors.js';
import { float32Decimal, protoFieldPath, toClosingFrame, withProtoField } from '../../../src/transport/grpc/codec.js';

describe('float32Decimal', () => {
  it('restores the decimal a client wrote into a proto float', () => {
    for (const v of [0.4, 0.545, 0.58, 1, 0.02, 0.1234567, 3e-5])
      assert.equal(float32Decimal(Math.fround(v)), v, String(v));
  });

  it('always rounds back to the same float32', () => {
    // Deterministic spread of float32 values across magnitudes.
    for (let i = 1; i < 2000; i++) {
      const f = Math.fround(Math.sin(i) * 10 ** ((i % 12) - 6));
      assert.equal(Math.fround(float32Decimal(f)), f, String(f));
    }
  });

  it('leaves non-finite values alone (the service rejects them)', () => {
    assert.ok(Number.isNaN(float32Decimal(NaN)));
    assert.equal(float32Decimal(Infinity), Infinity);
  });
});

describe('protoFieldPath', () => {
  it("renames the service's field names to the proto's", () => {
    assert.equal(protoFieldPath('classVector[1][3]', 'generate', false), 'class_vector[1][3]');
    assert.equal(protoFieldPath('timeoutMs', 'generate', false), 'timeout_ms');
    assert.equal(protoFieldPath('class[2]', 'generate', false), 'classes[2]');
    assert.equal(protoFieldPath('class', 'generate', true), 'classes[0]');
    assert.equal(protoFieldPath('class', 'generate', false), 'classes');
    assert.equal(protoFieldPath('from.classVector[0][5]', 'interpolate', false), 'from.class_vector[0][5]');
    assert.equal(protoFieldPath('from.class', 'interpolate', false), 'from.class');
    assert.equal(protoFieldPath('truncation', 'generate', false), 'truncation');
  });

  it('leaves quoted mixture keys as the client wrote them', () => {
    assert.equal(protoFieldPath('class["goldenRetriever.x"]', 'generate', true), 'classes[0]["goldenRetriever.x"]');
    assert.equal(protoFieldPath('to.class["fooBar"]', 'interpolate', false), 'to.class["fooBar"]');
  });
});

describe('withProtoField', () => {
  it('rewrites the field and the leading "field:" of an INVALID_ARGUMENT only', () => {
    const renamed = withProtoField(
      invalidArgument('classVector[0][1]', 'must be >= 0, got -1'),
      'generate',
      false,
    ) as BigGanError;
    assert.equal(renamed.code, 'INVALID_ARGUMENT');
    assert.equal(renamed.field, 'class_vector[0][1]');
    assert.equal(renamed.message, 'class_vector[0][1]: must be >= 0, got -1');
    const overload = new BigGanError('OVERLOADED', 'queue is full');
    assert.equal(withProtoField(overload, 'generate', false), overload);
  });
});

describe('toClosingFrame', () => {
  it('is absent without an animation or grid, and carries either when present', () => {
    const frames = [] as const;
    assert.equal(toClosingFrame({ frames, width: 128, height: 128 }), undefined);
    const closing = toClosingFrame({
      frames,
      grid: { data: Buffer.from('g'), mimeType: 'image/png' },
      width: 128,
      height: 128,
    });
    assert.equal(closing?.grid?.data.toString(), 'g');
    assert.equal(closing?.image, null);
  });
});
