/** sanitizeSchedule, property-based: whatever is stored, the schedule used is runnable, and a usable one is untouched. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MIN_INTERVAL_S, sanitizeSchedule } from '../../src/controller/schedule';
import type { CheckRow } from '../../src/store/store';

const row = (interval: number, delay: number): CheckRow => ({ id: 1, name: 'c', type: 'http', data: '{}', interval, delay, status: 'online' });
const stored = fc.oneof(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.constant(NaN), fc.constant(0));

test('interval ≥ 1 s and delay ≥ 0 always; unchanged (and no reason) when already usable', () => {
  fc.assert(fc.property(stored, stored, (interval, delay) => {
    const { row: used, reasons } = sanitizeSchedule(row(interval, delay));
    assert.ok(used.interval >= MIN_INTERVAL_S && Number.isFinite(used.interval));
    assert.ok(used.delay >= 0 && Number.isFinite(used.delay));
    const usable = interval >= MIN_INTERVAL_S && delay >= 0;
    assert.equal(reasons.length === 0, usable);
    if (usable) assert.deepEqual(used, row(interval, delay));
  }));
});

test('the reasons name the value: 0, negative, NULL', () => {
  assert.match(sanitizeSchedule(row(0, 1)).reasons[0], /check_interval 0 is below 1 s/);
  assert.match(sanitizeSchedule(row(-5, 1)).reasons[0], /check_interval -5/);
  assert.match(sanitizeSchedule(row(NaN, NaN)).reasons.join(' '), /check_interval NULL .* delay NULL/);
});
