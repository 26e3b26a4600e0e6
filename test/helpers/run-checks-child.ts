/**
 * Child process for resolver tests: `node run-checks-child.js JSON` where JSON is
 * `{ checks: [{ type, data }], serve?: true }`. With `serve`, it first starts an HTTP server on
 * 127.0.0.1 and replaces PORT in every check's data with its port. Runs every check at once through
 * the registry, sharing one HostResolver as a worker does, and prints the results as one JSON line.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runCheck } from '../../src/checks/registry';
import { HostResolver } from '../../src/net/resolver';

async function main(): Promise<void> {
  if (!process.argv[2]) return; // loaded by the test runner's directory scan: nothing to do
  const spec = JSON.parse(process.argv[2]) as { checks: { type: string; data: string }[] };
  const server = createServer((_req, res) => res.end('ok\n'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = String((server.address() as AddressInfo).port);
  const resolver = new HostResolver();
  const results = await Promise.all(spec.checks.map((c) => runCheck(c.type, c.data.replaceAll('PORT', port), { dnsServer: '', resolver })));
  process.stdout.write(`${JSON.stringify(results.map((r) => ({ status: r.status, message: r.message, durationMs: r.durationMs })))}\n`);
  server.close();
  resolver.cancel();
}

void main();
