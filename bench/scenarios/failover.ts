/**
 * Failover: SIGKILL the active controller's node under the paced load, then time (a) until a new
 * controller hands out its first check (its `first_assignment` log line) and (b) until the checks
 * the target sees per second, over a sliding second, are back to 90% of the rate before the kill.
 * The killed node is restarted afterwards, as a supervisor would, before the next kill.
 */
import type { LogLine, NodeProcess } from '../../test/helpers/cluster';
import { waitFor } from '../../test/helpers/wait';
import { controllerNode, median, sleep, viewStatus, type Context } from '../lib';

export interface FailoverResult {
  kills: number;
  /** Seconds from SIGKILL to the new controller's first check handed out, per kill. */
  handoutS: number[];
  /** Seconds from SIGKILL until throughput is back to 90%, per kill. */
  recoveryS: number[];
  medianS: number;
  medianRecoveryS: number;
}

/** Requests per second the target saw over [from, to). */
async function rate(ctx: Context, from: number, to: number): Promise<number> {
  const s = await ctx.target.stats({ from, to: to - 1 });
  return s.series.reduce((a, b) => a + b, 0) / ((to - from) / 1000);
}

export async function failover(ctx: Context): Promise<FailoverResult> {
  const kills = ctx.opts.quick ? 3 : 5;
  const handoutS: number[] = [];
  const recoveryS: number[] = [];
  for (let k = 0; k < kills; k++) {
    const victim = await waitFor('an active controller', () => controllerNode(ctx), 30_000);
    const end = Math.floor(Date.now() / 100) * 100; // whole 100 ms buckets only
    const before = await rate(ctx, end - 3_000, end);
    const killedAt = Date.now();
    await victim.kill('SIGKILL');
    const others = ctx.cluster.workers.filter((w) => w !== victim);
    const first = await waitFor('the new controller\'s first check', () => firstAssignmentAfter(others, killedAt), 60_000);
    handoutS.push((Number(first.time) - killedAt) / 1000);
    // Back to 90%: the first sliding second after the kill whose rate reaches 90% of the rate before.
    const recovered = await waitFor('throughput back to 90%', async () => {
      const s = await ctx.target.stats({ from: killedAt });
      const perWindow = 1000 / s.bucketMs;
      for (let end = perWindow; end < s.series.length; end++) {
        const sum = s.series.slice(end - perWindow, end).reduce((a, b) => a + b, 0);
        if (sum >= 0.9 * before) return Math.floor(killedAt / s.bucketMs) * s.bucketMs + end * s.bucketMs;
      }
      return undefined;
    }, 60_000);
    recoveryS.push((recovered - killedAt) / 1000);
    ctx.say(`failover ${k + 1}/${kills}: killed ${victim.name}, first check after ${handoutS[k].toFixed(2)} s, 90% throughput after ${recoveryS[k].toFixed(2)} s (before: ${Math.round(before)}/s)`);
    victim.start();
    await waitFor(`${victim.name} back as a candidate`, async () => (await viewStatus(ctx))?.controllers.find((c) => c.addr === victim.addr)?.live, 30_000);
    await sleep(ctx.opts.quick ? 3_000 : 5_000); // the restarted worker takes work and the rate settles
  }
  return { kills, handoutS, recoveryS, medianS: median(handoutS), medianRecoveryS: median(recoveryS) };
}

function firstAssignmentAfter(nodes: NodeProcess[], t: number): LogLine | undefined {
  for (const n of nodes) {
    for (let i = n.lines.length - 1; i >= 0; i--) {
      const l = n.lines[i];
      if (Number(l.time) <= t) break;
      if (l.event === 'first_assignment') return l;
    }
  }
  return undefined;
}
