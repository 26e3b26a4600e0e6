/**
 * The demo's files: one viewserver and three worker-node configs (rewritten at every start, since
 * the ports are new each time), and the embedded database, migrated and seeded with example
 * checks, a webhook contact and the alerts linking them. A second run reuses the database: its
 * demo checks and contact are pointed at the new ports, and anything the user added is kept.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../store/open';
import { DNS_ANSWER, DNS_NAME, HOST, WEBHOOK_PATH, type Targets } from './targets';

export const WORKERS = ['w1', 'w2', 'w3'];

export interface DemoLayout {
  dir: string;
  dbPath: string;
  password: string;
  viewserver: { port: number; config: string };
  workers: { name: string; port: number; config: string; webPort: number | null; pushPort: number | null }[];
  /** The dashboard's login (every worker node serves the web when web ports were given). */
  web: { user: string; password: string };
}

export interface SeedReport {
  /** The webhook contact's id. */
  contactId: number;
  migrations: string[];
  created: string[];
  updated: string[];
}

/**
 * Writes the four configs; `ports` are the viewserver's, then one per worker, then (optional) one
 * web port per worker, then (optional) one push (ping listener) port per worker.
 */
export function writeConfigs(dir: string, ports: number[], dnsPort: number): DemoLayout {
  mkdirSync(dir, { recursive: true });
  const dbPath = join(dir, 'gobearmon.db');
  const password = randomBytes(16).toString('hex');
  const header = (what: string) => `; ${what}, written by \`gobearmon demo\` at each start (its ports change every run).\n\n[default]\npassword = ${password}\n`;
  const [viewPort, ...rest] = ports;
  const workerPorts = rest.slice(0, WORKERS.length);
  const webPorts = rest.slice(WORKERS.length, 2 * WORKERS.length);
  const pushPorts = rest.slice(2 * WORKERS.length);
  const layout: DemoLayout = {
    dir,
    dbPath,
    password,
    viewserver: { port: viewPort, config: join(dir, 'viewserver.cfg') },
    workers: WORKERS.map((name, i) => ({ name, port: workerPorts[i], config: join(dir, `worker${i + 1}.cfg`), webPort: webPorts[i] ?? null, pushPort: pushPorts[i] ?? null })),
    web: { user: 'admin', password: randomBytes(6).toString('hex') },
  };
  writeFileSync(
    layout.viewserver.config,
    `${header('The viewserver')}\n[viewserver]\naddr = ${HOST}:${viewPort}\n${layout.workers.map((w) => `controller = ${HOST}:${w.port}\n`).join('')}`,
  );
  for (const w of layout.workers) {
    writeFileSync(
      w.config,
      `${header(`Worker node ${w.name}`)}
[controller]
addr = ${HOST}:${w.port}
database = sqlite:${dbPath}
confirmations = 2
; seconds between re-reads of the checks table: a check added with \`gobearmon sql\` shows up at once
reloadInterval = 1

[worker]
viewAddr = ${HOST}:${viewPort}
name = ${w.name}

[dns]
; the demo's own DNS server, which answers ${DNS_NAME}
server = ${HOST}:${dnsPort}
${w.webPort === null ? '' : `
[web]
; the dashboard, status page, API and /metrics of this node
addr = ${HOST}:${w.webPort}
user = ${layout.web.user}
password = ${layout.web.password}
public = on
`}${w.pushPort === null ? '' : `
[push]
; the ping API of push checks: curl http://${HOST}:${w.pushPort}/ping/<token>
addr = ${HOST}:${w.pushPort}
`}`,
    );
  }
  return layout;
}

export interface DemoCheck {
  name: string;
  type: string;
  data: string;
  tags: string;
  /** Its own check_interval (push checks' period), else the demo's. */
  interval?: number;
}

/** The demo's push checks: pinged by senders inside the demo process (see run.ts). */
export const PUSH_PERIOD_S = 6;
export const PUSH_GRACE_S = 3;
export const PUSH_TOKENS = { onTime: 'demo-heartbeat-on-time', stops: 'demo-heartbeat-stops' };

export function demoChecks(t: Targets): DemoCheck[] {
  const check = (name: string, type: string, tags: string, params: Record<string, unknown>) => ({ name, type, tags, data: JSON.stringify(params) });
  return [
    check('healthy', 'http', 'demo web', { url: `http://${HOST}:${t.httpPort}/healthy`, expect_status: 200, expect_substring: 'ok' }),
    check('flappy', 'http', 'demo web flaky', { url: `http://${HOST}:${t.httpPort}/flappy`, expect_status: 200 }),
    check('tcp-echo', 'tcp', 'demo net', { address: `${HOST}:${t.tcpPort}`, payload: 'ping', expect: 'ping' }),
    // No "server": the check uses the [dns] server of the worker configs.
    check('dns-record', 'dns', 'demo net', { name: DNS_NAME, type: 'a', expect: DNS_ANSWER }),
    // The certificate expires in a few days, so this one goes offline: what the check is for.
    check('tls-expiry', 'ssl_expire', 'demo tls', { address: `${HOST}:${t.tlsPort}`, days: 7 }),
    // Nothing probes these: the demo pings them, and one sender stops so its timeout alert shows.
    { ...check('heartbeat', 'push', 'demo push', { token: PUSH_TOKENS.onTime, grace: PUSH_GRACE_S }), interval: PUSH_PERIOD_S },
    { ...check('heartbeat-stops', 'push', 'demo push', { token: PUSH_TOKENS.stops, grace: PUSH_GRACE_S }), interval: PUSH_PERIOD_S },
  ];
}

export function webhookUrl(t: Targets): string {
  return `http://${HOST}:${t.webhookPort}${WEBHOOK_PATH}`;
}

/** Migrates the database and makes sure the demo's rows exist and point at this run's ports. */
export async function prepareDatabase(layout: DemoLayout, targets: Targets, intervalSeconds: number): Promise<SeedReport> {
  const store = await openStore([`sqlite:${layout.dbPath}`]);
  try {
    const migrations = await store.migrate();
    const db = store.driver;
    const report: SeedReport = { contactId: 0, migrations, created: [], updated: [] };
    const url = webhookUrl(targets);

    const [contact] = await db.all("SELECT id FROM contacts WHERE type = 'http' AND data LIKE ? ORDER BY id LIMIT 1", [`http://${HOST}:%${WEBHOOK_PATH}`]);
    let contactId: number;
    if (contact) {
      contactId = Number(contact.id);
      await db.run('UPDATE contacts SET data = ? WHERE id = ?', [url, contactId]);
      // Alerts a previous run did not deliver go to this run's sink instead of a dead port.
      await db.run("UPDATE alert_outbox SET contact_data = ? WHERE contact_id = ? AND state = 'pending'", [url, contactId]);
    } else {
      contactId = (await db.run("INSERT INTO contacts (type, data) VALUES ('http', ?)", [url])).insertId;
      report.created.push(`contact ${contactId} (webhook)`);
    }

    report.contactId = contactId;
    for (const c of demoChecks(targets)) {
      const [row] = await db.all('SELECT id FROM checks WHERE name = ? AND type = ? ORDER BY id LIMIT 1', [c.name, c.type]);
      let checkId: number;
      if (row) {
        checkId = Number(row.id);
        await db.run('UPDATE checks SET data = ?, check_interval = ?, tags = ? WHERE id = ?', [c.data, c.interval ?? intervalSeconds, c.tags, checkId]);
        report.updated.push(c.name);
      } else {
        checkId = (await db.run('INSERT INTO checks (name, type, data, check_interval, tags) VALUES (?, ?, ?, ?, ?)', [c.name, c.type, c.data, c.interval ?? intervalSeconds, c.tags])).insertId;
        report.created.push(`check ${checkId} ${c.name}`);
      }
      const [link] = await db.all('SELECT id FROM alerts WHERE check_id = ? AND contact_id = ?', [checkId, contactId]);
      if (!link) await db.run("INSERT INTO alerts (check_id, contact_id, type) VALUES (?, ?, 'both')", [checkId, contactId]);
    }
    return report;
  } finally {
    await store.close();
  }
}
