import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConfig, loadConfig, parseIni } from '../../src/config/load';
import { ConfigError } from '../../src/config/error';

// Compiled to dist/test/config/, so the repository root is three levels up.
const ROOT = join(__dirname, '../../..');
const WORKER_SAMPLE = join(ROOT, 'gobearmon.worker.cfg');
const VIEWSERVER_SAMPLE = join(ROOT, 'gobearmon.viewserver.cfg');

let dir = '';
let count = 0;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'gobearmon-config-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `text` to a fresh file so every message can be checked for its path. */
function write(text: string): string {
  const file = join(dir, `t${++count}.cfg`);
  writeFileSync(file, text);
  return file;
}

const load = (text: string) => loadConfig(write(text));

const WORKER = '[default]\npassword = s\n[controller]\naddr = :8888\ndatabase = u@tcp(db:3306)/m\n[worker]\nviewAddr = vs:8888\n';
const VIEWSERVER = '[default]\npassword = s\n[viewserver]\naddr = :8888\ncontroller = w1:8888\n';

describe('sample config files', () => {
  test('gobearmon.worker.cfg is a worker node with the values it shows', () => {
    const c = loadConfig(WORKER_SAMPLE);
    assert.equal(c.role, 'worker');
    assert.deepEqual(c.default, { debug: false, password: 'secretChangeMe', logFormat: 'json' });
    assert.deepEqual(c.controller, {
      addr: ':8888',
      database: ['monitor:password@tcp(mysql1:3306)/monitor', 'monitor@tcp(mysql2:3306)/monitor', 'mysql://monitor:password@mysql3:3306/monitor'],
      confirmations: 3,
      reloadIntervalMs: 10_000,
      lockTimeoutMs: 120_000,
      workerTimeoutMs: 15_000,
      alertMaxAttempts: 20,
      alertRetryBaseMs: 1_000,
      alertRetryMaxMs: 300_000,
      storeTimeoutMs: 5_000,
      leaseMs: 2_000,
      maxProbeAgeMs: 3_000,
    });
    // `name` is commented out in the sample (it must differ per node), so the default applies.
    assert.deepEqual(c.worker, { viewAddr: 'viewserver:8888', numThreads: 16, name: `${hostname()}:8888` });
    // SMTP and Twilio are examples in comments: a fresh install sends no mail and places no calls.
    assert.deepEqual(c.smtp, { host: '', port: 25, from: 'gobearmon@localhost', username: '', password: '', admin: '' });
    assert.deepEqual(c.dns, { server: '127.0.0.1' });
    assert.deepEqual(c.twilio, { accountSid: '', authToken: '', from: '', apiBase: 'https://api.twilio.com' });
    assert.deepEqual(c.telegram, { token: '', apiUrl: 'https://api.telegram.org' });
  });

  test('gobearmon.viewserver.cfg is the viewserver with five controllers', () => {
    const c = loadConfig(VIEWSERVER_SAMPLE);
    assert.equal(c.role, 'viewserver');
    assert.equal(c.default.password, 'secretChangeMe');
    assert.deepEqual(c.viewserver, {
      addr: ':8888',
      controller: ['worker1:8888', 'worker2:8888', 'worker3:8888', 'worker4:8888', 'worker5:8888'],
      probeIntervalMs: 500,
      probeTimeoutMs: 1_000,
      probeFailures: 2,
    });
    assert.equal(c.smtp.host, '');
    assert.equal(c.smtp.admin, '');
  });

  // Every key of the role appears in its sample, set or (for per-node `name`) commented out.
  const keysOf = (file: string) =>
    new Set([...readFileSync(file, 'utf8').matchAll(/^(?:; )?\[?(\w+)\]?(?: =|$)/gm)].map((m) => m[1].toLowerCase()));
  test('the worker sample carries every worker key', () => {
    const keys = keysOf(WORKER_SAMPLE);
    const expected = [
      'default', 'debug', 'password', 'controller', 'addr', 'database', 'confirmations', 'reloadinterval', 'locktimeout', 'workertimeout',
      'alertmaxattempts', 'alertretrybase', 'alertretrymax', 'worker', 'viewaddr', 'numthreads', 'name', 'smtp', 'host', 'port', 'from',
      'username', 'admin', 'dns', 'server', 'twilio', 'accountsid', 'authtoken', 'apibase', 'logformat', 'telegram', 'token', 'apiurl', 'pushover',
    ];
    for (const k of expected) assert.ok(keys.has(k), `${k} missing from the worker sample`);
  });
  test('the viewserver sample carries every viewserver key', () => {
    const keys = keysOf(VIEWSERVER_SAMPLE);
    const expected = ['default', 'debug', 'password', 'viewserver', 'addr', 'controller', 'probeinterval', 'probetimeout', 'probefailures',
      'smtp', 'host', 'port', 'from', 'username', 'admin'];
    for (const k of expected) assert.ok(keys.has(k), `${k} missing from the viewserver sample`);
  });
});

describe('syntax', () => {
  test('section and key names are case-insensitive', () => {
    const c = load('[DEFAULT]\nPassWord = s\n[Controller]\nADDR = :8888\nDataBase = u@tcp(db:3306)/m\n[Worker]\nVIEWADDR = vs:1\nnumthreads = 4\n');
    assert.equal(c.role, 'worker');
    assert.equal(c.default.password, 's');
    assert.equal(c.controller.addr, ':8888');
    assert.equal(c.worker.viewAddr, 'vs:1');
    assert.equal(c.worker.numThreads, 4);
  });

  test('repeated database and controller keys are lists, also across differently cased sections', () => {
    const w = load(WORKER.replace('\n[worker]', '\ndatabase = u@tcp(db2:3306)/m\n[worker]') + '[CONTROLLER]\nDatabase = sqlite:/tmp/x.db\n');
    assert.deepEqual(w.controller.database, ['u@tcp(db:3306)/m', 'u@tcp(db2:3306)/m', 'sqlite:/tmp/x.db']);
    const v = load(`${VIEWSERVER}controller = w2:8888\nController = [::1]:8888\n`);
    assert.deepEqual(v.viewserver.controller, ['w1:8888', 'w2:8888', '[::1]:8888']);
  });

  test('; and # comments, whole-line and inline; quotes keep them', () => {
    const c = load(
      '; a comment\n# another\n[default]\npassword = s ; inline\n  ; indented comment\n[controller]\naddr = :8888 # inline\n' +
        'database = u@tcp(db:3306)/m\nconfirmations = 4 ;\n[worker]\nviewAddr = vs:1\n[smtp]\npassword = "pa;ss#word"\n',
    );
    assert.equal(c.default.password, 's');
    assert.equal(c.controller.addr, ':8888');
    assert.equal(c.controller.confirmations, 4);
    assert.equal(c.smtp.password, 'pa;ss#word');
  });

  test('defaults apply to every key left out', () => {
    const w = load(WORKER);
    assert.equal(w.default.debug, false);
    assert.deepEqual(
      { ...w.controller, addr: undefined, database: undefined },
      {
        addr: undefined, database: undefined, confirmations: 2, reloadIntervalMs: 10_000, lockTimeoutMs: 120_000, workerTimeoutMs: 15_000,
        alertMaxAttempts: 20, alertRetryBaseMs: 1_000, alertRetryMaxMs: 300_000, storeTimeoutMs: 5_000, leaseMs: 2_000, maxProbeAgeMs: 3_000,
      },
    );
    assert.deepEqual(w.worker, { viewAddr: 'vs:8888', numThreads: 16, name: `${hostname()}:8888` });
    assert.deepEqual(w.smtp, { host: '', port: 25, from: 'gobearmon@localhost', username: '', password: '', admin: '' });
    assert.deepEqual(w.dns, { server: '' });
    assert.deepEqual(w.twilio, { accountSid: '', authToken: '', from: '', apiBase: 'https://api.twilio.com' });
    const v = load(VIEWSERVER);
    assert.deepEqual(v.viewserver, { addr: ':8888', controller: ['w1:8888'], probeIntervalMs: 500, probeTimeoutMs: 1_000, probeFailures: 2 });
  });

  test('a bare key means true for a bool; seconds may be fractional', () => {
    const c = load(`${WORKER}[default]\ndebug\n[controller]\nreloadInterval = 0.25\n`);
    assert.equal(c.default.debug, true);
    assert.equal(c.controller.reloadIntervalMs, 250);
  });
});

/** Loads `text` and checks the ConfigError names the file, `[section] key`, the value and what is allowed. */
function assertBad(text: string, where: string, value?: string) {
  const file = write(text);
  assert.throws(
    () => loadConfig(file),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `not a ConfigError: ${String(err)}`);
      const msg = err.message;
      assert.ok(msg.includes(file), `no file path in: ${msg}`);
      // Key names are case-insensitive, so the message may use either spelling.
      assert.ok(msg.toLowerCase().includes(where.toLowerCase()), `no ${where} in: ${msg}`);
      if (value !== undefined) assert.ok(msg.includes(JSON.stringify(value)), `no value ${value} in: ${msg}`);
      assert.match(msg, /allowed/, `no "allowed" in: ${msg}`);
      assert.doesNotMatch(msg, /\n/);
      return true;
    },
  );
}

describe('role rules', () => {
  test('both [controller] addr and [viewserver] addr: the error names both keys', () => {
    const file = write(`${WORKER}[viewserver]\naddr = :9999\ncontroller = w1:8888\n`);
    assert.throws(() => loadConfig(file), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /\[controller\] addr/);
      assert.match(err.message, /\[viewserver\] addr/);
      assert.match(err.message, /not both/);
      return true;
    });
    assertBad(`${WORKER}[viewserver]\naddr = :9999\n`, '[viewserver] addr', ':9999');
  });

  test('neither addr: the error names both keys', () => {
    assertBad('[default]\npassword = s\n[worker]\nviewAddr = vs:1\n', '[controller] addr');
    assertBad('[default]\npassword = s\n[worker]\nviewAddr = vs:1\n', '[viewserver] addr');
  });
});

describe('every bad value is a ConfigError naming file, [section] key, value and what is allowed', () => {
  const cases: [name: string, text: string, where: string, value?: string][] = [
    ['not a number', `${WORKER}numThreads = many\n`, '[worker] numThreads', 'many'],
    ['number out of range', `${WORKER}numThreads = 0\n`, '[worker] numThreads', '0'],
    ['not a number of seconds', `${WORKER}[controller]\nlockTimeout = 2m\n`, '[controller] lockTimeout', '2m'],
    ['smtp port out of range', `${WORKER}[smtp]\nport = 70000\n`, '[smtp] port', '70000'],
    ['listen port out of range', WORKER.replace('addr = :8888', 'addr = :99999'), '[controller] addr', ':99999'],
    ['viewAddr without a host', WORKER.replace('vs:8888', ':8888'), '[worker] viewAddr', ':8888'],
    ['bad controller in the list', `${VIEWSERVER}controller = w2\n`, '[viewserver] controller', 'w2'],
    ['unknown section', `${WORKER}[smpt]\nhost = x\n`, '[smpt]'],
    ['unknown key', `${WORKER}[smtp]\nhots = mail.example.com\n`, '[smtp] hots', 'mail.example.com'],
    ['unknown key that is an Object.prototype name', `${WORKER}constructor = x\n`, '[worker] constructor', 'x'],
    ['unknown section that is an Object.prototype name', `${WORKER}[constructor]\nname = x\n`, '[constructor]'],
    ['key before any section', `password = s\n${WORKER}`, 'password', 's'],
    ['missing password', WORKER.replace('password = s\n', ''), '[default] password'],
    ['empty password', WORKER.replace('password = s', 'password ='), '[default] password'],
    ['missing database on a worker node', WORKER.replace(/database = .*\n/, ''), '[controller] database'],
    ['bad database DSN', WORKER.replace('u@tcp(db:3306)/m', 'u@tcp(db:99999)/m'), '[controller] database', 'u@tcp(db:99999)/m'],
    ['database DSN that is no DSN', WORKER.replace('u@tcp(db:3306)/m', 'mysql1:3306'), '[controller] database', 'mysql1:3306'],
    ['missing viewAddr', WORKER.replace('viewAddr = vs:8888\n', ''), '[worker] viewAddr'],
    ['viewserver without controllers', VIEWSERVER.replace('controller = w1:8888\n', ''), '[viewserver] controller'],
    ['bad bool', `${WORKER}[default]\ndebug = maybe\n`, '[default] debug', 'maybe'],
    ['apiBase not a URL', `${WORKER}[twilio]\napiBase = not a url\n`, '[twilio] apiBase', 'not a url'],
    ['apiBase not http(s)', `${WORKER}[twilio]\napiBase = ftp://api.example.com\n`, '[twilio] apiBase', 'ftp://api.example.com'],
    ['a single-valued key given twice', `${WORKER}[controller]\nconfirmations = 2\nconfirmations = 3\n`, '[controller] confirmations', '3'],
    ['a single-valued key given twice in different case', `${WORKER}VIEWADDR = other:1\n`, '[worker] VIEWADDR', 'other:1'],
  ];
  for (const [name, text, where, value] of cases) test(name, () => assertBad(text, where, value));

  test('a DSN password is masked in the message', () => {
    const file = write(WORKER.replace('u@tcp(db:3306)/m', 'u:hunter2@tcp(db:0)/m'));
    assert.throws(() => loadConfig(file), (err: unknown) => err instanceof ConfigError && !err.message.includes('hunter2'));
  });

  test('an unreadable file is a ConfigError naming it', () => {
    const file = join(dir, 'does-not-exist.cfg');
    assert.throws(() => loadConfig(file), (err: unknown) => err instanceof ConfigError && err.message.includes(file));
  });
});

test('the words true, false and null are text where a key takes text', () => {
  const c = buildConfig(parseIni('[default]\npassword = true\n[viewserver]\naddr = :1\ncontroller = h:1\n[smtp]\nusername = null\n', 'w.cfg'), 'w.cfg');
  assert.equal(c.default.password, 'true');
  assert.equal(c.smtp.username, 'null');
});

test('[dns] server takes host, host:port or IPv6, and names what is allowed otherwise', () => {
  const dns = (server: string) => buildConfig(parseIni(`[default]\npassword = x\n[viewserver]\naddr = :1\ncontroller = h:1\n[dns]\nserver = ${server}\n`, 'v.cfg'), 'v.cfg').dns.server;
  for (const ok of ['127.0.0.1', 'ns1.example.com:5353', '::1', '[::1]:53']) assert.equal(dns(ok), ok);
  for (const bad of ['127.0.0.1:99999', 'a b', 'host:port']) assert.throws(() => dns(bad), /v\.cfg: \[dns\] server = .* is invalid: allowed: host, host:port/);
});
