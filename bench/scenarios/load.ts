/**
 * Throughput, lateness and cost, in two phases on the same cluster:
 * - paced: `rate` checks with a 1 s interval, an offered load the cluster should keep up with;
 *   lateness here is the scheduler's and the protocol's, not a queue's;
 * - saturated: more checks than the machine can run, so completions per second are the cluster's
 *   capacity, compared with the bare-undici ceiling. Lateness here is mostly the queue (checks ÷
 *   capacity − interval) and is reported for information only.
 */
import { controllerNode, insertChecks, measureWindow, metricsOf, sleep, type Context, type WindowResult } from '../lib';

const INTERVAL_S = 1;

/** Waits until the controller's table holds `n` checks (the next reload after an INSERT). */
export async function waitLoaded(ctx: Context, n: number, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const ctl = await controllerNode(ctx);
    const m = ctl ? await metricsOf(ctx, ctl).catch(() => null) : null;
    if (m && m.checks >= n) return;
    await sleep(200);
  }
  throw new Error(`the controller did not load ${n} checks within ${timeoutMs / 1000} s`);
}

async function addLoadChecks(ctx: Context, from: number, to: number): Promise<void> {
  const checks = [];
  for (let i = from; i < to; i++) checks.push({ name: `load ${i}`, url: ctx.target.url(`/load/${i}`), interval: INTERVAL_S });
  await insertChecks(ctx.db, checks);
}

export interface PhaseResult {
  checks: number;
  intervalS: number;
  window: WindowResult;
}

export async function pacedPhase(ctx: Context): Promise<PhaseResult> {
  const n = Math.round(ctx.opts.rate * INTERVAL_S);
  ctx.say(`paced: ${n} checks every ${INTERVAL_S} s`);
  await addLoadChecks(ctx, 0, n);
  await waitLoaded(ctx, n);
  await sleep(ctx.opts.quick ? 5_000 : 10_000); // the first burst (every check due at once) settles
  const window = await measureWindow(ctx, ctx.opts.quick ? 15 : 60);
  return { checks: n, intervalS: INTERVAL_S, window };
}

/** Adds checks up to 1.5 × the ceiling's rate (at least twice the paced load), then measures. */
export async function saturatedPhase(ctx: Context, ceilingCps: number, existing: number): Promise<PhaseResult> {
  const n = Math.max(existing * 2, Math.ceil((ceilingCps * 1.5 * INTERVAL_S) / 100) * 100);
  ctx.say(`saturated: ${n} checks every ${INTERVAL_S} s`);
  await addLoadChecks(ctx, existing, n);
  await waitLoaded(ctx, n);
  await sleep(ctx.opts.quick ? 5_000 : 10_000);
  const window = await measureWindow(ctx, ctx.opts.quick ? 15 : 60);
  return { checks: n, intervalS: INTERVAL_S, window };
}
