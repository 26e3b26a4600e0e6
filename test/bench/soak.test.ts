/** The soak's RSS slope: a least-squares line in MB per hour, exact on lines, NaN without two points. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { slope } from '../../bench/scenarios/soak';

test('slope of a straight line is its slope, whatever the offset and the sampling', () => {
  fc.assert(fc.property(
    fc.double({ min: -1000, max: 1000, noNaN: true }), fc.double({ min: 0, max: 1000, noNaN: true }),
    fc.uniqueArray(fc.integer({ min: 0, max: 3600 }), { minLength: 2, maxLength: 50 }),
    (perHour, offset, seconds) => {
      const pts = seconds.map((s) => ({ t: s / 3600, y: offset + perHour * (s / 3600) }));
      assert.ok(Math.abs(slope(pts) - perHour) < 1e-6 * Math.max(1, Math.abs(perHour)));
    },
  ));
});

test('flat memory with noise around it has a slope near zero; too few points give NaN', () => {
  const pts = Array.from({ length: 180 }, (_, i) => ({ t: i / 360, y: 200 + (i % 2 ? 5 : -5) }));
  assert.ok(Math.abs(slope(pts)) < 1, `${slope(pts)} MB/h`);
  assert.ok(Number.isNaN(slope([{ t: 0, y: 1 }])));
  assert.ok(Number.isNaN(slope([{ t: 1, y: 1 }, { t: 1, y: 2 }])));
});
