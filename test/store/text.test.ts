/** fitText/asciiText, property-based: whatever the input, the output fits, is well-formed and keeps what fits. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { asciiText, fitText } from '../../src/store/text';

const wellFormed = (s: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 3000 }), fc.string({ unit: 'grapheme', maxLength: 1500 }), fc.string({ maxLength: 2000 }));

test('fitText: at most max code points, well-formed, no NUL, and unchanged when it already fits', () => {
  fc.assert(fc.property(anyText, fc.integer({ min: 1, max: 1100 }), (text, max) => {
    const out = fitText(text, max);
    assert.ok(Array.from(out).length <= max);
    assert.ok(wellFormed(out));
    assert.ok(!out.includes('\u0000'));
    const clean = fitText(text, Number.MAX_SAFE_INTEGER);
    if (Array.from(clean).length <= max) assert.equal(out, clean);
    else {
      assert.ok(out.endsWith('…'));
      assert.ok(clean.startsWith(out.slice(0, -1)), 'a cut keeps the beginning');
    }
  }), { numRuns: 300 });
});

test('asciiText: printable ASCII only, at most max characters', () => {
  fc.assert(fc.property(anyText, fc.integer({ min: 4, max: 1100 }), (text, max) => {
    const out = asciiText(text, max);
    assert.ok(out.length <= max);
    assert.match(out, /^[\x20-\x7e]*$/);
  }), { numRuns: 300 });
  assert.equal(asciiText('ok ✓', 100), 'ok \\u{2713}');
});
