/** `gobearmon CONFIG`: validates the config and runs the role it names until SIGTERM/SIGINT. */
import { loadConfig } from '../config/load';
import type { Config } from '../config/types';
import { Controller } from '../controller/controller';
import { startPushReceiver } from '../push/receiver';
import { startAmqpConsumer } from '../amqp/receiver';
import { openStore } from '../store/open';
import { CONTROLLER_SESSION } from '../store/session';
import type { Store } from '../store/store';
import { isRetryable } from '../store/mysql';
import { createLogger, type Logger } from '../util/log';
import { LogThrottle } from '../util/log-throttle';
import { Viewserver } from '../viewserver/viewserver';
import { WebServer } from '../web/server';
import { Worker } from '../worker/worker';

/**
 * The node's clock: the system's, shifted by GOBEARMON_TEST_CLOCK_OFFSET_MS when set (tests
 * run a node with a skewed clock this way).
 */
export function nodeClock(env: NodeJS.ProcessEnv = process.env): () => number {
  const offset = Number(env.GOBEARMON_TEST_CLOCK_OFFSET_MS ?? 0);
  return Number.isFinite(offset) && offset !== 0 ? () => Date.now() + offset : Date.now;
}

/** A running role: what SIGTERM stops. */
export interface RunningNode {
  close(): Promise<void>;
}

/** Refuses a database older than this program instead of migrating behind the operator's back. */
async function requireSchema(store: Store, config: Config): Promise<void> {
  const { current, latest } = await store.schemaStatus();
  if (current < latest) {
    throw new Error(`the database schema is at version ${current} but this gobearmon needs ${latest}: run \`gobearmon migrate --config ${config.file}\` first`);
  }
}

/** Errors that say "the database is not there yet" rather than "this can never work". */
function storeNotReady(err: unknown): boolean {
  const code = (err as { code?: string })?.code ?? '';
  return isRetryable(err) || code === 'STORE_UNAVAILABLE' || code === 'ER_BAD_DB_ERROR' || code === 'ER_ACCESS_DENIED_ERROR';
}

/**
 * A node started while its database is down (a reboot where MariaDB comes up later) waits for it
 * with backoff (1 s doubling to 30 s), logging once and then on change, instead of exiting; an
 * outdated schema still stops it at once.
 */
export async function waitForStore(store: Store, config: Config, log: Logger, wait = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<void> {
  const trouble = new LogThrottle(log);
  for (let delay = 1_000; ; delay = Math.min(30_000, delay * 2)) {
    try {
      await requireSchema(store, config);
      trouble.restored('database', 'the database answers: starting');
      return;
    } catch (err) {
      if (!storeNotReady(err)) throw err;
      const message = (err as Error).message;
      trouble.failing('database', {
        event: 'database_unreachable', detail: (err as { code?: string }).code ?? message, restoredAs: 'database_restored', level: 'warn',
        msg: 'cannot reach the database: waiting for it before starting', fields: { err: message, retry_in_ms: delay },
      });
      await wait(delay);
    }
  }
}

export async function startWorkerNode(config: Config, log: Logger): Promise<RunningNode> {
  const store = await openStore(config.controller.database, { session: CONTROLLER_SESSION, timeoutMs: config.controller.storeTimeoutMs });
  try {
    await waitForStore(store, config, log.child({ component: 'node' }));
  } catch (err) {
    await store.close();
    throw err;
  }
  const clock = nodeClock();
  const controller = new Controller({ store, config, log: log.child({ component: 'controller' }), clock, authClock: clock });
  const port = await controller.listen();
  const worker = new Worker(config, log.child({ component: 'worker' }), undefined, { clock });
  worker.start();
  const push = config.push.addr ? await startPushReceiver(config, store, log.child({ component: 'push' })) : null;
  const amqp = config.amqp.url ? await startAmqpConsumer(config, store, log.child({ component: 'amqp' })) : null;
  const web = config.web.addr ? new WebServer({ store, config, controller, log: log.child({ component: 'web' }) }) : null;
  const webPort = web ? await web.listen() : null;
  log.info({ component: 'node', event: 'node_started', port, web_port: webPort, worker: config.worker.name, viewserver: config.worker.viewAddr }, 'worker node started');
  return {
    async close() {
      await amqp?.close();
      await push?.close();
      await web?.close();
      await worker.close();
      await controller.close();
      // A store connection held by a partition must not keep a stopping node alive.
      await Promise.race([store.close(), new Promise((r) => setTimeout(r, 3_000).unref())]);
    },
  };
}

export async function startViewserver(config: Config, log: Logger): Promise<RunningNode> {
  const viewserver = new Viewserver(config, log.child({ component: 'viewserver' }), undefined, { clock: nodeClock() });
  await viewserver.start();
  return viewserver;
}

export async function runNode(file: string): Promise<number> {
  const config = loadConfig(file);
  const log = createLogger(config.default.debug, config.role === 'worker' ? config.worker.name : 'viewserver', config.default.logFormat);
  let node: RunningNode;
  try {
    node = config.role === 'worker' ? await startWorkerNode(config, log) : await startViewserver(config, log);
  } catch (err) {
    log.fatal({ event: 'start_failed', err: (err as Error).message }, 'could not start');
    console.error(`gobearmon: ${(err as Error).message}`);
    return 1;
  }
  return new Promise((settle) => {
    // Stopped is stopped: a socket held by a partitioned store must not keep the process alive.
    const resolve = (code: number) => {
      settle(code);
      setTimeout(() => process.exit(code), 2_000).unref();
    };
    const stop = (signal: string) => {
      log.info({ event: 'shutdown', signal }, 'shutting down');
      const force = setTimeout(() => resolve(1), 10_000);
      force.unref();
      node.close().then(
        () => resolve(0),
        (err: Error) => {
          log.error({ event: 'shutdown_error', err: err.message }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
