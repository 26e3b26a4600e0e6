/** Builds a worker node's push receiver from its config: the ingest and the public listener. */
import type { Config } from '../config/types';
import type { Store } from '../store/store';
import type { Logger } from '../util/log';
import { PingIngest } from './ingest';
import { PushListener } from './listener';
import { PushStore } from './store';

export async function startPushReceiver(config: Config, store: Store, log: Logger, clock?: () => number): Promise<PushListener> {
  const pushStore = new PushStore(store);
  const node = config.worker.name;
  const ingest = new PingIngest({ store: pushStore, node, log, clock, reloadIntervalMs: config.controller.reloadIntervalMs });
  await ingest.start();
  const listener = new PushListener({ addr: config.push.addr, key: config.push.key, basicAuth: config.push.basicAuth, ingest, store: pushStore, node, log, clock });
  await listener.start();
  return listener;
}
