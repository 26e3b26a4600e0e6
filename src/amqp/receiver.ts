/** Builds a worker node's AMQP heartbeat consumer from its config: a ping ingest on the store, and the consumer. */
import type { Config } from '../config/types';
import { PingIngest } from '../push/ingest';
import { PushStore } from '../push/store';
import type { Store } from '../store/store';
import type { Logger } from '../util/log';
import { HeartbeatConsumer } from './consumer';

export interface RunningConsumer {
  consumer: HeartbeatConsumer;
  close(): Promise<void>;
}

export async function startAmqpConsumer(config: Config, store: Store, log: Logger): Promise<RunningConsumer> {
  const ingest = new PingIngest({ store: new PushStore(store), node: config.worker.name, log, reloadIntervalMs: config.controller.reloadIntervalMs });
  await ingest.start();
  const consumer = new HeartbeatConsumer(config.amqp, ingest, config.worker.name, log);
  consumer.start();
  return {
    consumer,
    async close() {
      await consumer.close();
      await ingest.close();
    },
  };
}
