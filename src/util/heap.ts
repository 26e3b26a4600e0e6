/** A binary min-heap of items keyed by a number, with O(log n) update and removal by item. */
export class KeyedHeap<T> {
  private items: T[] = [];
  private keys: number[] = [];
  private index = new Map<T, number>();

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  peekKey(): number | undefined {
    return this.keys[0];
  }

  has(item: T): boolean {
    return this.index.has(item);
  }

  /** Inserts `item` or moves it to `key`. */
  set(item: T, key: number): void {
    const at = this.index.get(item);
    if (at === undefined) {
      this.items.push(item);
      this.keys.push(key);
      this.index.set(item, this.items.length - 1);
      this.up(this.items.length - 1);
      return;
    }
    const old = this.keys[at];
    this.keys[at] = key;
    if (key < old) this.up(at);
    else this.down(at);
  }

  pop(): T | undefined {
    if (this.items.length === 0) return undefined;
    const top = this.items[0];
    this.removeAt(0);
    return top;
  }

  delete(item: T): void {
    const at = this.index.get(item);
    if (at !== undefined) this.removeAt(at);
  }

  private removeAt(at: number): void {
    const last = this.items.length - 1;
    this.index.delete(this.items[at]);
    if (at !== last) {
      this.items[at] = this.items[last];
      this.keys[at] = this.keys[last];
      this.index.set(this.items[at], at);
    }
    this.items.pop();
    this.keys.pop();
    if (at < this.items.length) {
      this.up(at);
      this.down(at);
    }
  }

  private swap(a: number, b: number): void {
    [this.items[a], this.items[b]] = [this.items[b], this.items[a]];
    [this.keys[a], this.keys[b]] = [this.keys[b], this.keys[a]];
    this.index.set(this.items[a], a);
    this.index.set(this.items[b], b);
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.keys[parent] <= this.keys[i]) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.items.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.keys[l] < this.keys[m]) m = l;
      if (r < n && this.keys[r] < this.keys[m]) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
