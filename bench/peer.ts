/**
 * The peer in the same run: Prometheus' blackbox_exporter (Debian package
 * prometheus-blackbox-exporter) probing the same target at the same concurrency as the cluster's
 * workers — each probe one fresh HTTP request, as each of our http checks is. Driven by the same
 * loop processes as the ceiling (keep-alive to the exporter; a probe counts only when it reports
 * `probe_success 1`). Skipped, with a note, when the binary is absent.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/helpers/ports';
import { runCeiling, sleep, stopChild } from './lib';

export const BLACKBOX = '/usr/bin/prometheus-blackbox-exporter';

export type PeerResult = { probesPerS: number; errors: number; cpuPct: number; version: string } | { skipped: string };

export async function blackboxPeer(targetUrl: string, processes: number, concurrencyEach: number, seconds: number): Promise<PeerResult> {
  if (!existsSync(BLACKBOX)) return { skipped: `${BLACKBOX} not found (apt-get install prometheus-blackbox-exporter)` };
  const dir = mkdtempSync(join(tmpdir(), 'gbm-blackbox-'));
  // The same test as our checks: GET, status 200, 10 s timeout, a fresh connection each probe.
  writeFileSync(join(dir, 'blackbox.yml'), [
    'modules:',
    '  http_200:',
    '    prober: http',
    '    timeout: 10s',
    '    http:',
    '      valid_status_codes: [200]',
    '      method: GET',
    '      preferred_ip_protocol: ip4',
    '      headers:',
    '        User-Agent: gobearmon',
  ].join('\n'));
  const port = await freePort();
  const proc = spawn(BLACKBOX, [`--config.file=${join(dir, 'blackbox.yml')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=error'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  try {
    let up = false;
    for (let i = 0; i < 100 && !up; i++) {
      up = await fetch(`http://127.0.0.1:${port}/-/healthy`).then((r) => r.ok, () => false);
      if (!up) await sleep(100);
    }
    if (!up) return { skipped: `blackbox_exporter did not start: ${stderr.slice(0, 300)}` };
    const version = await versionOf();
    const probe = `http://127.0.0.1:${port}/probe?module=http_200&target=${encodeURIComponent(targetUrl)}`;
    const r = await runCeiling(probe, processes, concurrencyEach, seconds, 'probe_success 1');
    return { probesPerS: r.cps, errors: r.errors, cpuPct: r.cpuPct, version };
  } finally {
    await stopChild(proc);
    rmSync(dir, { recursive: true, force: true });
  }
}

function versionOf(): Promise<string> {
  return new Promise((resolve) => {
    const p = spawn(BLACKBOX, ['--version'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    p.once('close', () => resolve(/version ([^\s]+)/.exec(out)?.[1] ?? 'unknown'));
    p.once('error', () => resolve('unknown'));
  });
}
