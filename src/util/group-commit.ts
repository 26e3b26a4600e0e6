/**
 * Group commit: items submitted while a flush is running wait and go together in the next one,
 * so one transaction carries every concurrent caller and durability costs one commit per batch,
 * not one per item. Each caller's promise settles only after its batch's flush did.
 */
export class GroupCommit<I, O> {
  private queue: { item: I; resolve(o: O): void; reject(e: unknown): void }[] = [];
  private flushing = false;

  constructor(
    private readonly flush: (items: I[]) => Promise<O[]>,
    private readonly maxBatch = 1000,
  ) {}

  /** Items waiting for the next flush (for metrics and shutdown). */
  get waiting(): number {
    return this.queue.length;
  }

  get busy(): boolean {
    return this.flushing || this.queue.length > 0;
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.flushing) void this.run();
    });
  }

  private async run(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const out = await this.flush(batch.map((b) => b.item));
          batch.forEach((b, i) => b.resolve(out[i]));
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
