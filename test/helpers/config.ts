/** A minimal valid worker-node Config for tests, with `extra` INI text appended (an [smtp] section, …). */
import { buildConfig, parseIni } from '../../src/config/load';
import type { Config } from '../../src/config/types';

export function workerConfig(extra = ''): Config {
  const text = `[default]\npassword=x\n[controller]\naddr=:1\ndatabase=sqlite:/tmp/gobearmon-none.db\n[worker]\nviewAddr=h:1\n${extra}`;
  return buildConfig(parseIni(text, 'test.cfg'), 'test.cfg');
}
