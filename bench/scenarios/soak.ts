/**
 * Soak: the paced load for many minutes, each node's RSS sampled every 10 s from /proc, and the
 * slope of a least-squares line through the samples after a warm-up, in MB per hour. A node whose
 * memory grows per request (a listener or a signal kept per long-poll) shows a steady slope; one
 * that is flat shows noise around zero.
 */
import { sampleProc } from '../proc-stats';
import { sleep, type Context } from '../lib';

export interface SoakResult {
  minutes: number;
  /** Per node: MB/h, and the first and last RSS of the fitted part. */
  nodes: Record<string, { slopeMbPerH: number; firstMb: number; lastMb: number; samples: number }>;
  maxSlopeMbPerH: number;
}

const SAMPLE_EVERY_MS = 10_000;

/** Least-squares slope of (t hours, y MB). */
export function slope(points: { t: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mt = points.reduce((a, p) => a + p.t, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.y - my);
    den += (p.t - mt) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

export async function soak(ctx: Context, minutes: number): Promise<SoakResult> {
  const pids = new Map<string, number>();
  if (ctx.cluster.viewserver.pid) pids.set('viewserver', ctx.cluster.viewserver.pid);
  for (const w of ctx.cluster.workers) if (w.pid) pids.set(w.name, w.pid);
  const samples = new Map<string, { t: number; y: number }[]>([...pids.keys()].map((k) => [k, []]));
  const t0 = Date.now();
  const until = t0 + minutes * 60_000;
  // The first fifth (at most 5 min) warms up: pools fill, JIT settles, the heap finds its size.
  const warmUntil = t0 + Math.min(5 * 60_000, (minutes * 60_000) / 5);
  while (Date.now() < until) {
    for (const [name, pid] of pids) {
      const s = sampleProc(pid);
      if (s && s.at >= warmUntil) samples.get(name)!.push({ t: (s.at - t0) / 3_600_000, y: s.rssMb });
    }
    const left = until - Date.now();
    if (left > 0) await sleep(Math.min(SAMPLE_EVERY_MS, left));
    if (Math.round((Date.now() - t0) / 60_000) !== Math.round((Date.now() - t0 - SAMPLE_EVERY_MS) / 60_000)) ctx.say(`soak: ${Math.round((Date.now() - t0) / 60_000)} of ${minutes} min`);
  }
  const nodes: SoakResult['nodes'] = {};
  for (const [name, pts] of samples) {
    nodes[name] = { slopeMbPerH: slope(pts), firstMb: pts[0]?.y ?? NaN, lastMb: pts[pts.length - 1]?.y ?? NaN, samples: pts.length };
  }
  const slopes = Object.values(nodes).map((n) => n.slopeMbPerH).filter((x) => !Number.isNaN(x));
  return { minutes, nodes, maxSlopeMbPerH: slopes.length ? Math.max(...slopes) : NaN };
}
