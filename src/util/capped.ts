/** Reading a child's output without letting a flood of it fill memory: the first `maxBytes` are kept. */
import type { Readable } from 'node:stream';

export interface Capped {
  /** What was kept so far, as UTF-8 text. */
  text(): string;
  /** Bytes read past the cap and dropped. */
  dropped(): number;
}

/** Keeps the first `maxBytes` of `stream` and drains the rest, so the writer never blocks on a full pipe. */
export function captureCapped(stream: Readable, maxBytes: number): Capped {
  const chunks: Buffer[] = [];
  let kept = 0;
  let dropped = 0;
  stream.on('data', (chunk: Buffer) => {
    const room = maxBytes - kept;
    if (room > 0) {
      const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
      chunks.push(part);
      kept += part.length;
    }
    dropped += Math.max(0, chunk.length - Math.max(0, room));
  });
  return {
    text: () => Buffer.concat(chunks).toString('utf8'),
    dropped: () => dropped,
  };
}
