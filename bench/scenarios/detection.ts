/**
 * Detection: checks whose target starts failing, timed from their first failing run (the target's
 * first 500 on that path) to their offline alert at the webhook, against the earliest the rules
 * allow: first failing run + delay × interval (the flip comes with round delay + 1).
 */
import { insertChecks, median, sleep, type Context } from '../lib';

const INTERVAL_S = 2;
const DELAY = 2;

/** The first offline alert the sink received for a check. */
const firstOffline = (ctx: Context, id: number) => ctx.sink.requests.find((r) => r.checkId === id && r.status === 'offline');

export interface DetectionResult {
  checks: number;
  intervalS: number;
  delay: number;
  earliestS: number;
  /** Alert arrival − (first failing run + delay × interval), per check, seconds. */
  excessS: number[];
  medianExcessS: number;
  maxExcessS: number;
}

export async function detection(ctx: Context): Promise<DetectionResult> {
  const k = ctx.opts.quick ? 3 : 7;
  ctx.say(`detection: ${k} checks, interval ${INTERVAL_S} s, delay ${DELAY}`);
  const paths = Array.from({ length: k }, (_, i) => `/d/${i}`);
  const ids = await insertChecks(ctx.db, paths.map((p, i) => ({ name: `detect ${i}`, url: ctx.target.url(p), interval: INTERVAL_S, delay: DELAY })));
  for (const id of ids) {
    const c = (await ctx.db.exec(`INSERT INTO contacts (type, data) VALUES ('http', ?)`, [ctx.sink.url(`/alert/${id}`)])) as { insertId: number };
    await ctx.db.exec(`INSERT INTO alerts (check_id, contact_id, type) VALUES (?, ?, 'offline')`, [id, c.insertId]);
  }
  const until = Date.now() + 60_000;
  // Healthy first: every check has run a few times and is settled online.
  while (Date.now() < until) {
    const s = await ctx.target.stats({ hits: paths });
    if (paths.every((p) => (s.hits[p] ?? 0) >= 2)) break;
    await sleep(250);
  }
  // Failures begin at different phases of the checks' schedules.
  for (const p of paths) {
    await ctx.target.fail(p);
    await sleep((INTERVAL_S * 1000) / k);
  }
  while (Date.now() < until && !ids.every((id) => firstOffline(ctx, id))) await sleep(100);
  const { firstFail } = await ctx.target.stats();
  await ctx.db.exec(`UPDATE checks SET enabled = 0 WHERE id IN (${ids.join(', ')})`);
  const earliestS = DELAY * INTERVAL_S;
  const excessS = ids.flatMap((id, i) => {
    const alert = firstOffline(ctx, id);
    const failed = firstFail[paths[i]];
    return alert && failed ? [(alert.at - failed) / 1000 - earliestS] : [];
  });
  if (excessS.length < ids.length) ctx.say(`detection: only ${excessS.length} of ${ids.length} checks alerted within the time limit`);
  return { checks: k, intervalS: INTERVAL_S, delay: DELAY, earliestS, excessS, medianExcessS: median(excessS), maxExcessS: Math.max(...excessS) };
}
