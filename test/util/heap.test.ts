import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedHeap } from '../../src/util/heap';

/** Small deterministic PRNG (mulberry32) so a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Item {
  id: number;
}

function minKey(model: Map<Item, number>): number | undefined {
  let min: number | undefined;
  for (const k of model.values()) if (min === undefined || k < min) min = k;
  return min;
}

test('empty heap', () => {
  const h = new KeyedHeap<Item>();
  assert.equal(h.size, 0);
  assert.equal(h.peek(), undefined);
  assert.equal(h.peekKey(), undefined);
  assert.equal(h.pop(), undefined);
  h.delete({ id: 1 }); // deleting an absent item is a no-op
  assert.equal(h.size, 0);
});

test('pops in key order; set moves an item up and down; delete removes it', () => {
  const h = new KeyedHeap<Item>();
  const items = [0, 1, 2, 3, 4].map((id) => ({ id }));
  [50, 10, 40, 20, 30].forEach((k, i) => h.set(items[i], k));
  assert.equal(h.size, 5);
  assert.equal(h.peek(), items[1]);
  h.set(items[1], 100); // down
  h.set(items[4], 5); // up
  h.delete(items[3]);
  assert.equal(h.has(items[3]), false);
  assert.equal(h.has(items[4]), true);
  const order: number[] = [];
  for (let it = h.pop(); it; it = h.pop()) order.push(it.id);
  assert.deepEqual(order, [4, 2, 0, 1]);
  assert.equal(h.size, 0);
});

for (const seed of [1, 2, 3, 42, 1234, 99991]) {
  test(`random insert/update/delete/pop against a sorted-array model (seed ${seed})`, () => {
    const r = rng(seed);
    const h = new KeyedHeap<Item>();
    const model = new Map<Item, number>();
    const pool: Item[] = Array.from({ length: 60 }, (_, id) => ({ id }));
    // Few distinct keys so ties are exercised too.
    const key = () => Math.floor(r() * 40) - 10;
    for (let step = 0; step < 4000; step++) {
      const op = r();
      const item = pool[Math.floor(r() * pool.length)];
      if (op < 0.4) {
        const k = key();
        h.set(item, k); // insert or update
        model.set(item, k);
      } else if (op < 0.6) {
        h.delete(item);
        model.delete(item);
      } else if (op < 0.85) {
        const expectedKey = minKey(model);
        const before = h.peekKey();
        const peeked = h.peek();
        const got = h.pop();
        assert.equal(before, expectedKey, `peekKey at step ${step}`);
        assert.equal(got, peeked, `pop returns what peek showed at step ${step}`);
        if (expectedKey === undefined) {
          assert.equal(got, undefined);
        } else {
          assert.ok(got, `pop returned nothing at step ${step}`);
          assert.equal(model.get(got), expectedKey, `popped a non-minimal item at step ${step}`);
          model.delete(got);
        }
      } else {
        assert.equal(h.has(item), model.has(item), `has() at step ${step}`);
      }
      assert.equal(h.size, model.size, `size at step ${step}`);
      assert.equal(h.peekKey(), minKey(model), `min key at step ${step}`);
    }
    // Draining yields exactly the model's keys in sorted order.
    const sorted = [...model.values()].sort((a, b) => a - b);
    const drained: number[] = [];
    while (h.size > 0) {
      drained.push(h.peekKey()!);
      const it = h.pop()!;
      assert.ok(model.delete(it), 'drained an item the model does not hold');
    }
    assert.deepEqual(drained, sorted);
    assert.equal(model.size, 0);
  });
}
