/**
 * The machine's ceiling for HTTP checks, run as its own process:
 * `node dist/bench/ceiling.js URL CONCURRENCY SECONDS [EXPECT]`. A bare undici loop: CONCURRENCY
 * requests in flight, each on a fresh connection (the rule every http check follows), the body
 * read, nothing else. Prints one JSON line: {"requests":…,"errors":…,"seconds":…,"cps":…,"cpuPct":…}.
 * It uses the cheapest fresh-connection form undici offers (a shared Agent and `reset: true`), so
 * the ceiling is as high as it can honestly be. With EXPECT (the peer benchmark driving
 * blackbox_exporter), connections are kept alive — they only carry the request to the prober — and
 * a request counts only when its body contains EXPECT.
 */
import { Agent } from 'undici';

async function main(): Promise<void> {
  const [url, concurrencyArg, secondsArg, expect] = process.argv.slice(2);
  const target = new URL(url);
  const concurrency = Number(concurrencyArg);
  const until = Date.now() + Number(secondsArg) * 1000;
  const agent = new Agent({ connect: { timeout: 10_000 }, connections: expect ? concurrency : null });
  let requests = 0;
  let errors = 0;
  const loop = async (): Promise<void> => {
    while (Date.now() < until) {
      try {
        const res = await agent.request({ origin: target.origin, path: `${target.pathname}${target.search}`, method: 'GET', reset: !expect, headers: { 'user-agent': 'gobearmon' } });
        if (expect) {
          if ((await res.body.text()).includes(expect)) requests++;
          else errors++;
        } else {
          await res.body.dump();
          requests++;
        }
      } catch {
        errors++;
      }
    }
  };
  const t0 = Date.now();
  const cpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, loop));
  const seconds = (Date.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await agent.close();
  process.stdout.write(`${JSON.stringify({ requests, errors, seconds, cps: requests / seconds, cpuPct: (cpu.user + cpu.system) / 1e4 / seconds })}\n`);
}

void main();
