/**
 * Runs the demo: targets and webhook sink in this process, a viewserver and three worker nodes
 * as child processes (so one can be killed from another terminal), and a live console made of
 * their log lines, the alerts the sink receives and the controller's status every few seconds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, isAbsolute, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { PeerClient } from '../protocol/client';
import type { ControllerStatus } from '../protocol/messages';
import type { ViewserverStatus } from '../viewserver/viewserver';
import { clock, formatAlert, formatRecord, formatStatus, Painter, parseLogLine, type Names } from './console';
import { prepareDatabase, PUSH_GRACE_S, PUSH_PERIOD_S, PUSH_TOKENS, webhookUrl, writeConfigs, type DemoLayout } from './seed';
import { DNS_NAME, freePorts, HOST, startTargets, type Targets } from './targets';

export interface DemoOptions {
  dir: string;
  /** Seconds between state changes of the flappy endpoint. */
  flapSeconds: number;
  /** check_interval of the demo's checks, seconds. */
  intervalSeconds: number;
  /** Seconds between results summaries; 0 for none. */
  resultsSeconds: number;
  /** Seconds after which the second push check's sender stops pinging. */
  pushStopSeconds?: number;
  /** Where console lines go (stdout by default). */
  write?: (text: string) => void;
}

/** How long the nodes get to stop after SIGTERM before they are killed. */
const STOP_GRACE_MS = 15_000;

interface Child {
  label: string;
  config: string;
  port: number;
  proc: ChildProcess;
  exited: Promise<void>;
  alive: boolean;
  /** Called once the node says it listens (the viewserver's `viewserver_started`). */
  started?: () => void;
}

/** Seconds after which the `heartbeat-stops` sender stops, so its timeout alert shows. */
const PUSH_STOP_SECONDS = 40;

/** One GET to a ping URL; failures are ignored (the node may be down: the next ping goes elsewhere). */
async function sendPing(url: string): Promise<void> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3_000) });
    await res.arrayBuffer();
  } catch {
    // the check's status will tell
  }
}

/** The program's entry point, for starting the nodes (dist/cmd/gobearmon.js next to this file's dist/src). */
function entryPoint(): string {
  const entry = resolve(__dirname, '../../cmd/gobearmon.js');
  if (!existsSync(entry)) throw new Error(`cannot find the gobearmon program at ${entry} to start the nodes (run the build first)`);
  return entry;
}

/** A path as the user would type it from here. */
function show(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/** How the user runs this program: `gobearmon` when installed as such, else `node path/to/gobearmon.js`. */
function programName(entry: string): string {
  return basename(process.argv[1] ?? '') === 'gobearmon' ? 'gobearmon' : `node ${show(entry)}`;
}

export async function runDemo(opts: DemoOptions): Promise<number> {
  const write = opts.write ?? ((text: string) => process.stdout.write(text));
  const out = (line: string) => write(`${clock()} ${line}\n`);
  const p = new Painter(Boolean(process.stdout.isTTY) && !process.env.NO_COLOR && !opts.write);
  const entry = entryPoint();
  const program = programName(entry);
  const dir = resolve(opts.dir);

  const targets: Targets = await startTargets({
    flapSeconds: opts.flapSeconds,
    onFlap: (up) => out(p.paint('dim', `[targets] /flappy now answers ${up ? '200 (up)' : '503 (down)'}`)),
    onAlert: (form) => out(formatAlert(form, p)),
  });
  let layout: DemoLayout;
  let seeded: Awaited<ReturnType<typeof prepareDatabase>>;
  try {
    layout = writeConfigs(dir, await freePorts(4 + 3 + 3), targets.dnsPort);
    seeded = await prepareDatabase(layout, targets, opts.intervalSeconds);
  } catch (err) {
    await targets.close();
    throw err;
  }

  const nodeNames = new Map<string, string>(layout.workers.map((w) => [`${HOST}:${w.port}`, w.name]));
  const checkNames = new Map<number, string>();
  const names: Names = {
    node: (addr) => nodeNames.get(String(addr)) ?? String(addr ?? 'none'),
    check: (id) => checkNames.get(Number(id)) ?? `#${String(id)}`,
  };

  const pushStopSeconds = opts.pushStopSeconds ?? PUSH_STOP_SECONDS;
  const pingUrls = layout.workers.filter((w) => w.pushPort !== null).map((w) => `http://${HOST}:${w.pushPort}`);
  const dbState = seeded.created.length ? `new: ${seeded.created.join(', ')}` : `reused; demo checks re-pointed at this run's ports`;
  write(
    [
      p.paint('bold', 'gobearmon demo: a viewserver and three worker nodes on this machine'),
      `  data     ${show(dir)}/  (database ${show(layout.dbPath)}, ${dbState})`,
      `  targets  http://${HOST}:${targets.httpPort}/healthy · http://${HOST}:${targets.httpPort}/flappy (200 and 503 in turn, ${opts.flapSeconds} s each)`,
      `           tcp echo ${HOST}:${targets.tcpPort} · dns ${HOST}:${targets.dnsPort} (A ${DNS_NAME}) · tls ${HOST}:${targets.tlsPort} (certificate expires ${targets.certNotAfter.toISOString().slice(0, 10)})`,
      `  alerts   webhook contact ${webhookUrl(targets)}, printed here as ALERT lines`,
      `  checks   every ${opts.intervalSeconds} s, 2 workers must agree, twice in a row, before a check flips`,
      `  push     heartbeat is pinged every ${PUSH_PERIOD_S / 2} s by the demo; heartbeat-stops too, for ${pushStopSeconds} s, then goes silent (down after ${PUSH_PERIOD_S} s + ${PUSH_GRACE_S} s grace)`,
      `           ping one by hand: ${p.paint('cyan', `curl -fsS ${pingUrls[0]}/ping/${PUSH_TOKENS.onTime}`)}`,
      `  web      dashboard ${layout.workers.filter((w) => w.webPort !== null).map((w) => `http://${HOST}:${w.webPort}/`).join(' · ')}  (any node; login ${layout.web.user} / ${layout.web.password})`,
      `           public status page http://${HOST}:${layout.workers[0].webPort}/status · metrics http://${HOST}:${layout.workers[0].webPort}/metrics`,
      '',
    ].join('\n'),
  );

  const children: Child[] = [];
  const spawnNode = (label: string, config: string, port: number): Child => {
    // Own process group: Ctrl-C in this terminal reaches only the demo, which stops the nodes in order.
    const proc = spawn(process.execPath, [entry, config], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const child: Child = { label, config, port, proc, alive: true, exited: Promise.resolve() };
    child.exited = new Promise((done) => {
      proc.on('exit', (code, signal) => {
        child.alive = false;
        onExit(child, code, signal);
        done();
      });
      proc.on('error', (err) => {
        out(p.paint('red', `[${label}] could not start: ${err.message}`));
        if (child.alive) {
          child.alive = false;
          onExit(child, 1, null);
          done();
        }
      });
    });
    createInterface({ input: proc.stdout! }).on('line', (line) => onLine(child, line));
    createInterface({ input: proc.stderr! }).on('line', (line) => out(p.paint('red', `[${label}] ${line}`)));
    children.push(child);
    return child;
  };

  let controller: Child | null = null;
  let hinted = false;
  let stopping: Promise<number> | null = null;

  const onLine = (child: Child, line: string) => {
    const record = parseLogLine(line);
    if (!record) {
      if (line.trim()) out(`[${child.label}] ${line}`);
      return;
    }
    if (record.event === 'viewserver_started') child.started?.();
    // While stopping, nodes that outlive the others report them gone: nothing to tell the user.
    if (stopping && String(record.event).endsWith('_unreachable')) return;
    if (record.event === 'election' && record.component === 'controller') controller = child;
    if (record.event === 'flip' && record.check_id !== undefined) checkNames.set(Number(record.check_id), String(record.check));
    const text = formatRecord(child.label, record, p, names);
    if (text) out(text);
    if (record.event === 'election' && record.component === 'controller' && !stopping) {
      out(`       try: ${p.paint('cyan', `kill -9 ${child.proc.pid}`)} from another terminal kills ${child.label}, the controller, and shows a failover`);
      if (!hinted) {
        hinted = true;
        hint();
      }
    }
  };

  const hint = () => {
    const cfg = show(layout.workers[0].config);
    write(
      [
        '',
        `  To add a check while the demo runs (the controller picks it up within a second):`,
        `    ${program} sql --config ${cfg} "INSERT INTO checks (name, type, data, check_interval) VALUES ('my check', 'http', '{\\"url\\":\\"http://${HOST}:${targets.httpPort}/healthy\\"}', 5)"`,
        `  and to be alerted about it:  ${program} sql --config ${cfg} "INSERT INTO alerts (check_id, contact_id) SELECT MAX(id), ${seeded.contactId} FROM checks"`,
        `  To look around:              ${program} sql --config ${cfg} "SELECT id, name, type, status FROM checks"`,
        '',
      ].join('\n'),
    );
  };

  const onExit = (child: Child, code: number | null, signal: NodeJS.Signals | null) => {
    if (stopping) return;
    const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
    out(p.paint(signal === 'SIGKILL' ? 'yellow' : 'red', `[${child.label}] process ${child.proc.pid ?? '?'} ${how}`));
    if (controller === child) controller = null;
    if (children.every((c) => !c.alive)) {
      void stop('every node has stopped', 1);
      return;
    }
    if (child.label === 'viewserver') {
      void stop('the viewserver stopped: without it no controller can be elected', 1);
      return;
    }
    out(`       restart it from another terminal with: ${program} ${show(child.config)}`);
  };

  const client = new PeerClient(layout.password);
  let polling = false;
  const poll = async () => {
    if (polling || stopping) return;
    polling = true;
    try {
      const view = await client.call<ViewserverStatus>(`${HOST}:${layout.viewserver.port}`, '/status', undefined, { timeoutMs: 2_000 });
      if (!view.controller || stopping) return;
      const st = await client.call<ControllerStatus>(view.controller, '/status', undefined, { timeoutMs: 2_000 });
      if (!st.inOffice || stopping) return;
      for (const c of st.checks) checkNames.set(c.id, c.name);
      write(formatStatus(st, names.node(view.controller), p).map((l) => `${clock()} ${l}\n`).join(''));
    } catch {
      // between controllers, or stopping: the next summary will tell
    } finally {
      polling = false;
    }
  };
  const pollTimer = opts.resultsSeconds > 0 ? setInterval(() => void poll(), opts.resultsSeconds * 1000) : null;

  // The push senders: each ping goes to the next node's listener, as a job with several receivers would.
  let pingTurn = 0;
  const startedAt = Date.now();
  const pingTimer = setInterval(() => {
    if (stopping) return;
    const base = pingUrls[pingTurn++ % pingUrls.length];
    void sendPing(`${base}/ping/${PUSH_TOKENS.onTime}`);
    if (Date.now() - startedAt < pushStopSeconds * 1000) void sendPing(`${base}/ping/${PUSH_TOKENS.stops}`);
  }, (PUSH_PERIOD_S / 2) * 1000);
  const stopNote = setTimeout(() => {
    if (!stopping) out(p.paint('dim', `[push] the heartbeat-stops sender stops pinging now: its timeout alert follows in about ${PUSH_PERIOD_S + PUSH_GRACE_S} s`));
  }, pushStopSeconds * 1000);

  let finish: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (finish = resolve));

  const stop = (reason: string, code: number): Promise<number> => {
    if (stopping) return stopping;
    stopping = (async () => {
      if (pollTimer) clearInterval(pollTimer);
      clearInterval(pingTimer);
      clearTimeout(stopNote);
      out(`stopping (${reason}): asking every node to shut down (a second Ctrl-C kills them)`);
      const alive = children.filter((c) => c.alive);
      for (const c of alive) c.proc.kill('SIGTERM');
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, STOP_GRACE_MS, 'timeout').unref());
      const result = await Promise.race([Promise.all(alive.map((c) => c.exited)), timeout]);
      let exitCode = code;
      if (result === 'timeout') {
        for (const c of children.filter((c) => c.alive)) {
          out(p.paint('red', `[${c.label}] did not stop within ${STOP_GRACE_MS / 1000} s: killing it`));
          c.proc.kill('SIGKILL');
        }
        await Promise.all(children.map((c) => c.exited));
        exitCode = 1;
      }
      for (const c of alive) {
        const { exitCode: ec, signalCode: sig } = c.proc;
        if (ec !== 0 && result !== 'timeout') out(p.paint('yellow', `[${c.label}] stopped with ${sig ? `signal ${sig}` : `code ${ec}`}`));
      }
      await client.close();
      await targets.close();
      out(`demo stopped. Its data stays in ${show(dir)}/: run the demo again to carry on, or delete the directory.`);
      return exitCode;
    })();
    void stopping.then(finish);
    return stopping;
  };

  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!firstSignalAt) {
      firstSignalAt = Date.now();
      write('\n');
      void stop(signal === 'SIGINT' ? 'Ctrl-C' : signal, 0);
      return;
    }
    // Under `npm run demo` one Ctrl-C arrives twice (from the terminal, and forwarded by npm).
    if (Date.now() - firstSignalAt < 2_000) return;
    out(p.paint('red', 'second signal: killing the nodes now'));
    for (const c of children.filter((c) => c.alive)) c.proc.kill('SIGKILL');
  };
  // Last resort: whatever ends this process must not leave the nodes running.
  const killAll = () => {
    for (const c of children) if (c.alive) c.proc.kill('SIGKILL');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal); // the terminal closed: the nodes, in their own group, would not notice
  process.on('exit', killAll);

  try {
    const viewserver = spawnNode('viewserver', layout.viewserver.config, layout.viewserver.port);
    // The workers ask the viewserver first thing: let it listen before they start, or they complain.
    await Promise.race([
      new Promise<void>((ready) => (viewserver.started = ready)),
      viewserver.exited,
      new Promise((later) => setTimeout(later, 10_000).unref()),
    ]);
    if (!stopping) {
      const nodes = layout.workers.map((w) => spawnNode(w.name, w.config, w.port));
      write(
        [
          '  nodes (each one a process: kill any of them from another terminal)',
          ...[viewserver, ...nodes].map((c) => `    ${c.label.padEnd(10)}  pid ${String(c.proc.pid ?? '?').padEnd(7)}  port ${c.port}  ${show(c.config)}`),
          '  Ctrl-C stops everything.',
          '',
        ].join('\n'),
      );
    }
    return await done;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    process.off('exit', killAll);
  }
}
