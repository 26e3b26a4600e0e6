import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDsn, redactDsn } from '../../src/store/dsn';

test('original Go DSN with password and params', () => {
  assert.deepEqual(parseDsn('monitor:s3cret@tcp(mysql1:3306)/monitor?parseTime=true'), {
    engine: 'mysql', user: 'monitor', password: 's3cret', host: 'mysql1', port: 3306, database: 'monitor', params: { parseTime: 'true' },
  });
});

test('original Go DSN without password, as in the sample config', () => {
  const d = parseDsn('monitor@tcp(mysql2:3307)/monitor');
  assert.equal(d.engine, 'mysql');
  assert.ok(d.engine === 'mysql' && d.user === 'monitor' && d.password === '' && d.host === 'mysql2' && d.port === 3307);
});

test('mysql:// URL and IPv6 host', () => {
  const d = parseDsn('mysql://u:p%40ss@[::1]:3306/db');
  assert.ok(d.engine === 'mysql' && d.host === '::1' && d.password === 'p@ss' && d.database === 'db');
});

test('sqlite DSN', () => {
  assert.deepEqual(parseDsn('sqlite:/var/lib/gobearmon/gobearmon.db'), { engine: 'sqlite', path: '/var/lib/gobearmon/gobearmon.db' });
});

test('bad DSNs say what is allowed', () => {
  assert.throws(() => parseDsn('nonsense'), /allowed: user:password@tcp\(host:port\)\/dbname/);
  assert.throws(() => parseDsn('u@tcp(h:99999)/db'), /port must be 1\.\.65535/);
  assert.throws(() => parseDsn('sqlite:'), /needs a file path/);
});

test('passwords are masked in messages', () => {
  assert.equal(redactDsn('u:secret@tcp(h:1)/d'), 'u:***@tcp(h:1)/d');
  assert.equal(redactDsn('mysql://u:secret@h/d'), 'mysql://u:***@h/d');
});
