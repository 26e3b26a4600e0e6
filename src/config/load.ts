/**
 * Reads a gcfg/INI file into one validated Config.
 * Section and key names are case-insensitive; a repeated key is a list; `;` and `#` start comments.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import ini from 'ini';
import { parseDsn, redactDsn } from '../store/dsn';
import { AMQP_KEYS, readAmqpSection } from '../amqp/config';
import { ConfigError } from './error';
import type { Config, Role } from './types';
import { parseAddr, parseBasicAuth, parseBool, parseDirectory, parseHostPort, parseInteger, parsePingKey, parseSecondsMs, parseUrl, splitAddr } from './values';

/** Every known key, lower-cased, per section; `list` keys may repeat. */
const KEYS: Record<string, Record<string, 'one' | 'list'>> = {
  default: { debug: 'one', password: 'one', logformat: 'one' },
  controller: {
    addr: 'one', database: 'list', confirmations: 'one', reloadinterval: 'one', locktimeout: 'one',
    workertimeout: 'one', alertmaxattempts: 'one', alertretrybase: 'one', alertretrymax: 'one',
    storetimeout: 'one',
  },
  worker: { viewaddr: 'one', numthreads: 'one', name: 'one' },
  viewserver: { addr: 'one', controller: 'list', probeinterval: 'one', probetimeout: 'one', probefailures: 'one' },
  smtp: { host: 'one', port: 'one', from: 'one', username: 'one', password: 'one', admin: 'one' },
  dns: { server: 'one' },
  push: { addr: 'one', key: 'one', basicauth: 'one' },
  twilio: { accountsid: 'one', authtoken: 'one', from: 'one', apibase: 'one' },
  telegram: { token: 'one', apiurl: 'one' },
  pushover: { token: 'one', apiurl: 'one' },
  web: { addr: 'one', user: 'one', password: 'one', apikey: 'one', metricstoken: 'one', public: 'one', retentiondays: 'one' },
  exec: { dir: 'one' },
  amqp: Object.fromEntries(AMQP_KEYS.map((k) => [k, 'one'])) as Record<string, 'one'>,
};

const DSN_FORMS = 'user:password@tcp(host:port)/dbname, mysql://user:password@host:port/dbname or sqlite:/path/file.db';

type Raw = Map<string, Map<string, string[]>>;

/** Decodes with `ini` (repeated keys become arrays), then folds names to lower case and checks them. */
export function parseIni(text: string, file: string): Raw {
  const raw: Raw = new Map();
  const decoded = ini.decode(text, { bracketedArray: false }) as Record<string, unknown>;
  for (const [sectionName, body] of Object.entries(decoded)) {
    const section = sectionName.toLowerCase();
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      // `ini` puts keys written before the first [section] at the top level.
      const first: unknown = Array.isArray(body) ? body[0] : body;
      throw new ConfigError(file, 'no section', sectionName, String(first), 'allowed: keys only after a [section] header such as [default]');
    }
    // hasOwn: `[constructor]` must not pass as a known section via Object.prototype.
    if (!Object.hasOwn(KEYS, section)) throw new ConfigError(file, sectionName, '', undefined, `unknown section; allowed sections: ${Object.keys(KEYS).join(', ')}`);
    const keys = raw.get(section) ?? new Map<string, string[]>();
    raw.set(section, keys);
    for (const [keyName, value] of Object.entries(body as Record<string, unknown>)) {
      const key = keyName.toLowerCase();
      // `ini` turns the words true/false/null into values; the key's own parser reads them back as text.
      const list = (Array.isArray(value) ? value : [value]).map((v) => String(v));
      const kind = Object.hasOwn(KEYS[section], key) ? KEYS[section][key] : undefined;
      if (!kind) throw new ConfigError(file, sectionName, keyName, list[0], `unknown key; allowed keys in [${section}]: ${Object.keys(KEYS[section]).join(', ')}`);
      const values = [...(keys.get(key) ?? []), ...list];
      if (kind === 'one' && values.length > 1) throw new ConfigError(file, sectionName, keyName, values[1], 'given more than once; allowed: one line of this key (only database and controller may repeat)');
      keys.set(key, values);
    }
  }
  return raw;
}

function parseLogFormat(v: string): 'json' | 'pretty' {
  const f = v.trim().toLowerCase();
  if (f !== 'json' && f !== 'pretty') throw new Error('allowed: json (one JSON object per line) or pretty (one readable line per event)');
  return f;
}

export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    // A ConfigError so the CLI prints one line and exits 2 (e.g. `migrate --config` with a missing file).
    throw new ConfigError(file, '', '', undefined, `cannot read config file: ${(err as Error).message}`);
  }
  return buildConfig(parseIni(text, file), file);
}

export function buildConfig(raw: Raw, file: string): Config {
  const values = (section: string, key: string) => raw.get(section)?.get(key) ?? [];
  const one = (section: string, key: string) => values(section, key)[0];
  /** Reads one value with a parser; a parser's complaint becomes a ConfigError naming the key. */
  const read = <T>(section: string, key: string, dflt: T, parse: (v: string) => T): T => {
    const v = one(section, key);
    if (v === undefined) return dflt;
    try {
      return parse(v);
    } catch (err) {
      throw new ConfigError(file, section, key, v, (err as Error).message);
    }
  };
  const str = (section: string, key: string, dflt = '') => one(section, key) ?? dflt;
  const fail = (section: string, key: string, allowed: string): never => {
    throw new ConfigError(file, section, key, one(section, key), allowed);
  };

  const controllerAddr = read('controller', 'addr', '', (v) => parseAddr(v, false));
  const viewserverAddr = read('viewserver', 'addr', '', (v) => parseAddr(v, false));
  if (controllerAddr && viewserverAddr) {
    fail('viewserver', 'addr', 'allowed: either [controller] addr (a worker node) or [viewserver] addr (the viewserver), not both');
  }
  if (!controllerAddr && !viewserverAddr) {
    fail('controller', 'addr', 'allowed: exactly one of [controller] addr (a worker node) or [viewserver] addr (the viewserver)');
  }
  const role: Role = controllerAddr ? 'worker' : 'viewserver';

  const password = str('default', 'password');
  if (!password) fail('default', 'password', 'required; allowed: any non-empty string, the shared secret of the whole cluster');

  const databases = values('controller', 'database').map((d) => d.trim()).filter(Boolean);
  // Checked here, not when the store opens, so a typo is a ConfigError naming the key.
  for (const dsn of databases) {
    try {
      parseDsn(dsn);
    } catch (err) {
      const prefix = `bad DSN ${JSON.stringify(dsn)}: `;
      const msg = (err as Error).message;
      const why = msg.startsWith(prefix) ? msg.slice(prefix.length) : msg;
      throw new ConfigError(file, 'controller', 'database', redactDsn(dsn), why.includes('allowed') ? why : `${why}; allowed: ${DSN_FORMS}`);
    }
  }
  const viewControllers = values('viewserver', 'controller').map((v, i) => {
    try {
      return parseAddr(v, true);
    } catch (err) {
      throw new ConfigError(file, 'viewserver', `controller (line ${i + 1} of the list)`, v, (err as Error).message);
    }
  });

  const config: Config = {
    file,
    role,
    default: { debug: read('default', 'debug', false, parseBool), password, logFormat: read('default', 'logformat', 'json', parseLogFormat) },
    controller: {
      addr: controllerAddr,
      database: databases,
      confirmations: read('controller', 'confirmations', 2, (v) => parseInteger(v, 1, 100)),
      reloadIntervalMs: read('controller', 'reloadinterval', 10_000, (v) => parseSecondsMs(v, 0.1, 3600)),
      lockTimeoutMs: read('controller', 'locktimeout', 120_000, (v) => parseSecondsMs(v, 1, 3600)),
      workerTimeoutMs: read('controller', 'workertimeout', 15_000, (v) => parseSecondsMs(v, 1, 3600)),
      alertMaxAttempts: read('controller', 'alertmaxattempts', 20, (v) => parseInteger(v, 1, 1000)),
      alertRetryBaseMs: read('controller', 'alertretrybase', 1_000, (v) => parseSecondsMs(v, 0.01, 3600)),
      alertRetryMaxMs: read('controller', 'alertretrymax', 300_000, (v) => parseSecondsMs(v, 0.01, 86400)),
      storeTimeoutMs: read('controller', 'storetimeout', 5_000, (v) => parseSecondsMs(v, 0.1, 600)),
      leaseMs: read('controller', 'lease', 2_000, (v) => parseSecondsMs(v, 0.3, 600)),
      maxProbeAgeMs: read('controller', 'maxprobeage', 3_000, (v) => parseSecondsMs(v, 0.1, 600)),
    },
    worker: {
      viewAddr: read('worker', 'viewaddr', '', (v) => parseAddr(v, true)),
      numThreads: read('worker', 'numthreads', 16, (v) => parseInteger(v, 1, 100_000)),
      name: str('worker', 'name') || (controllerAddr ? `${hostname()}:${splitAddr(controllerAddr).port}` : ''),
    },
    viewserver: {
      addr: viewserverAddr,
      controller: viewControllers,
      probeIntervalMs: read('viewserver', 'probeinterval', 500, (v) => parseSecondsMs(v, 0.05, 60)),
      probeTimeoutMs: read('viewserver', 'probetimeout', 1_000, (v) => parseSecondsMs(v, 0.05, 60)),
      probeFailures: read('viewserver', 'probefailures', 2, (v) => parseInteger(v, 1, 100)),
    },
    smtp: {
      host: str('smtp', 'host'),
      port: read('smtp', 'port', 25, (v) => parseInteger(v, 1, 65535)),
      from: str('smtp', 'from', 'gobearmon@localhost'),
      username: str('smtp', 'username'),
      password: str('smtp', 'password'),
      admin: str('smtp', 'admin'),
    },
    dns: { server: read('dns', 'server', '', parseHostPort) },
    push: {
      addr: read('push', 'addr', '', (v) => parseAddr(v, false)),
      key: read('push', 'key', '', parsePingKey),
      basicAuth: read('push', 'basicauth', '', parseBasicAuth),
    },
    twilio: {
      accountSid: str('twilio', 'accountsid'),
      authToken: str('twilio', 'authtoken'),
      from: str('twilio', 'from'),
      apiBase: read('twilio', 'apibase', 'https://api.twilio.com', parseUrl),
    },
    telegram: { token: str('telegram', 'token'), apiUrl: read('telegram', 'apiurl', 'https://api.telegram.org', parseUrl) },
    pushover: { token: str('pushover', 'token'), apiUrl: read('pushover', 'apiurl', 'https://api.pushover.net', parseUrl) },
    web: {
      addr: read('web', 'addr', '', (v) => parseAddr(v, false)),
      user: str('web', 'user'),
      password: str('web', 'password'),
      apiKey: str('web', 'apikey'),
      metricsToken: str('web', 'metricstoken'),
      public: read('web', 'public', false, parseBool),
      retentionDays: read('web', 'retentiondays', 90, (v) => parseInteger(v, 1, 3650)),
    },
    exec: { dir: read('exec', 'dir', '', parseDirectory) },
    amqp: readAmqpSection((key, dflt, parse) => read('amqp', key, dflt, parse), parseSecondsMs, parseUrl),
  };

  if (config.web.addr && role !== 'worker') fail('web', 'addr', 'allowed only on a worker node (it reads the database); remove it from the viewserver\'s config');
  if (Boolean(config.web.user) !== Boolean(config.web.password)) {
    fail('web', config.web.user ? 'password' : 'user', 'allowed: user and password both set (the dashboard login) or both empty (no dashboard)');
  }
  if (role === 'worker') {
    if (config.amqp.url && !config.amqp.exchange) fail('amqp', 'exchange', 'required when [amqp] url is set; allowed: the exchange the heartbeats are published to');
    if (config.amqp.url && !config.amqp.queue) fail('amqp', 'queue', 'required when [amqp] url is set; allowed: the queue this node consumes heartbeats from');
    if (databases.length === 0) fail('controller', 'database', `required on a worker node; allowed: one or more lines of ${DSN_FORMS}`);
    if (!config.worker.viewAddr) fail('worker', 'viewAddr', 'required on a worker node; allowed: the viewserver\'s host:port');
  } else if (viewControllers.length === 0) {
    fail('viewserver', 'controller', 'required on the viewserver; allowed: one or more lines of host:port, each a worker\'s [controller] addr');
  }
  return config;
}
