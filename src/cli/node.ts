/** `gobearmon CONFIG`: validates the config and runs the role it names until SIGTERM/SIGINT. */
import { loadConfig } from '../config/load';
import type { Config } from '../config/types';
import { Controller } from '../controller/controller';
import { startPushReceiver } from '../push/receiver';
import { startAmqpConsumer } from '../amqp/receiver';
import { openStore } from '../store/open';
import { CONTROLLER_SESSION } from '../store/session';
import type { Store } from '../store/store';
import { createLogger, type Logger } from '../util/log';
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

export async function startWorkerNode(config: Config, log: Logger): Promise<RunningNode> {
  const store = await openStore(config.controller.database, { session: CONTROLLER_SESSION, timeoutMs: config.controller.storeTimeoutMs });
  try {
    await requireSchema(store, config);
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
      await store.close();
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
  return new Promise((resolve) => {
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
