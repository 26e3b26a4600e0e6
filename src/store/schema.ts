/**
 * DDL per dialect. The five original tables keep their exact names, columns, types and defaults;
 * everything ours is additive. install.sql is the MySQL side of this file (a test keeps them equal).
 */

export type Dialect = 'mysql' | 'sqlite';
type Ddl = Record<Dialect, string>;

export const ORIGINAL_TABLES: Record<string, Ddl> = {
  checks: {
    mysql: `CREATE TABLE checks (
  id INT NOT NULL PRIMARY KEY AUTO_INCREMENT,
  name VARCHAR(64) NOT NULL,
  type VARCHAR(16) NOT NULL,
  data VARCHAR(1024) NOT NULL,
  check_interval INT NOT NULL DEFAULT 60,
  delay INT NOT NULL DEFAULT 1,
  status ENUM ('online', 'offline') DEFAULT 'online',
  enabled TINYINT(1) NOT NULL DEFAULT 1
)`,
    sqlite: `CREATE TABLE checks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name VARCHAR(64) NOT NULL,
  type VARCHAR(16) NOT NULL,
  data VARCHAR(1024) NOT NULL,
  check_interval INT NOT NULL DEFAULT 60,
  delay INT NOT NULL DEFAULT 1,
  status TEXT DEFAULT 'online' CHECK (status IN ('online', 'offline')),
  enabled TINYINT(1) NOT NULL DEFAULT 1
)`,
  },
  contacts: {
    mysql: `CREATE TABLE contacts (
  id INT NOT NULL PRIMARY KEY AUTO_INCREMENT,
  type VARCHAR(32) NOT NULL,
  data VARCHAR(512) NOT NULL
)`,
    sqlite: `CREATE TABLE contacts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  type VARCHAR(32) NOT NULL,
  data VARCHAR(512) NOT NULL
)`,
  },
  alerts: {
    mysql: `CREATE TABLE alerts (
  id INT NOT NULL PRIMARY KEY AUTO_INCREMENT,
  check_id INT NOT NULL,
  contact_id INT NOT NULL,
  type ENUM ('online', 'offline', 'both') DEFAULT 'both',
  enabled TINYINT(1) NOT NULL DEFAULT 1
)`,
    sqlite: `CREATE TABLE alerts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  check_id INT NOT NULL,
  contact_id INT NOT NULL,
  type TEXT DEFAULT 'both' CHECK (type IN ('online', 'offline', 'both')),
  enabled TINYINT(1) NOT NULL DEFAULT 1
)`,
  },
  check_events: {
    mysql: `CREATE TABLE check_events (
  id INT NOT NULL PRIMARY KEY AUTO_INCREMENT,
  check_id INT NOT NULL,
  type ENUM ('online', 'offline'),
  time TIMESTAMP DEFAULT CURRENT_TIMESTAMP
)`,
    sqlite: `CREATE TABLE check_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  check_id INT NOT NULL,
  type TEXT CHECK (type IN ('online', 'offline')),
  time TIMESTAMP DEFAULT CURRENT_TIMESTAMP
)`,
  },
  charges: {
    mysql: `CREATE TABLE charges (
  id INT NOT NULL PRIMARY KEY AUTO_INCREMENT,
  check_id INT NOT NULL,
  type VARCHAR(32) NOT NULL,
  data VARCHAR(512) NOT NULL
)`,
    sqlite: `CREATE TABLE charges (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  check_id INT NOT NULL,
  type VARCHAR(32) NOT NULL,
  data VARCHAR(512) NOT NULL
)`,
  },
};

/**
 * Our tables are utf8mb4 on MySQL whatever the database's default (latin1 on MySQL 5.7 and older
 * MariaDB), so a check message holding any character can be stored.
 */
export const UTF8MB4_COLLATION = 'utf8mb4_unicode_ci';
export const UTF8MB4 = `CHARACTER SET utf8mb4 COLLATE ${UTF8MB4_COLLATION}`;
const tableOptions = (d: Dialect) => (d === 'mysql' ? ' DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci' : '');

const autoId: Ddl = { mysql: 'BIGINT NOT NULL PRIMARY KEY AUTO_INCREMENT', sqlite: 'INTEGER PRIMARY KEY AUTOINCREMENT' };

/** Tables gobearmon adds; times are epoch milliseconds (BIGINT) so both engines compare them alike. */
export const OUR_TABLES: Record<string, (d: Dialect) => string> = {
  schema_migrations: (d) => `CREATE TABLE schema_migrations (
  version INT NOT NULL PRIMARY KEY,
  description VARCHAR(255) NOT NULL,
  applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
)${tableOptions(d)}`,
  // One row: the fencing token. Every controller write is conditional on still holding `epoch`.
  controller_lease: (d) => `CREATE TABLE controller_lease (
  id INT NOT NULL PRIMARY KEY,
  epoch BIGINT NOT NULL DEFAULT 0,
  holder VARCHAR(255) NOT NULL DEFAULT '',
  taken_at BIGINT NOT NULL DEFAULT 0
)${tableOptions(d)}`,
  // One row per (flip, contact), written in the flip's transaction; sent at least once, keyed once.
  alert_outbox: (d) => `CREATE TABLE alert_outbox (
  id ${autoId[d]},
  idempotency_key VARCHAR(191) NOT NULL UNIQUE,
  event_id INT NOT NULL,
  check_id INT NOT NULL,
  contact_id INT NOT NULL,
  contact_type VARCHAR(32) NOT NULL,
  contact_data VARCHAR(512) NOT NULL,
  status VARCHAR(16) NOT NULL,
  message VARCHAR(1024) NOT NULL DEFAULT '',
  check_name VARCHAR(64) NOT NULL,
  check_type VARCHAR(16) NOT NULL,
  check_data VARCHAR(1024) NOT NULL,
  state VARCHAR(16) NOT NULL DEFAULT 'pending',
  attempts INT NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  claim_epoch BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  sent_at BIGINT NULL,
  provider_id VARCHAR(255) NULL,
  last_error VARCHAR(1024) NULL
)${tableOptions(d)}`,
  // Every delivery attempt, successful or not: the visible history of an alert.
  alert_attempts: (d) => `CREATE TABLE alert_attempts (
  id ${autoId[d]},
  outbox_id BIGINT NOT NULL,
  epoch BIGINT NOT NULL,
  started_at BIGINT NOT NULL,
  finished_at BIGINT NOT NULL,
  ok TINYINT(1) NOT NULL,
  error VARCHAR(1024) NULL,
  provider_id VARCHAR(255) NULL
)${tableOptions(d)}`,
};

/** Indexes for the queries we run: [table, index name, columns]. */
export const OUR_INDEXES: [string, string, string][] = [
  ['alerts', 'alerts_check', 'check_id'],
  ['check_events', 'check_events_check', 'check_id, time'],
  ['alert_outbox', 'alert_outbox_due', 'state, next_attempt_at'],
  ['alert_outbox', 'alert_outbox_event', 'event_id'],
  ['alert_attempts', 'alert_attempts_outbox', 'outbox_id'],
];

/** Columns added to original tables: [table, column, definition]. */
export const OUR_COLUMNS: [string, string, string][] = [['check_events', 'message', 'VARCHAR(1024) NULL']];

/**
 * Migration 4, the office lease (SPEC §12): the view that elected the holder, when its lease ends
 * and when its predecessor's ended (both on the store's clock, epoch ms), and a counter every
 * fenced write bumps (the compare-and-set that certifies the write).
 */
export const LEASE_COLUMNS: [string, string, string][] = [
  ['controller_lease', 'elected_view', 'BIGINT NOT NULL DEFAULT 0'],
  ['controller_lease', 'expires_at', 'BIGINT NOT NULL DEFAULT 0'],
  ['controller_lease', 'prev_expires_at', 'BIGINT NOT NULL DEFAULT 0'],
  ['controller_lease', 'fence_seq', 'BIGINT NOT NULL DEFAULT 0'],
];

/**
 * Added by migration 3, per dialect: [table, column, definition]. `permanent` marks an outbox row
 * that died of a permanent contact error (never worth undoing its flip for); `flip_key` is the
 * identity the controller gives a flip, so recording it twice is refused by a unique index.
 */
export const V3_COLUMNS: [string, string, Ddl][] = [
  ['alert_outbox', 'permanent', { mysql: 'TINYINT(1) NOT NULL DEFAULT 0', sqlite: 'TINYINT(1) NOT NULL DEFAULT 0' }],
  ['check_events', 'flip_key', { mysql: `VARCHAR(64) ${UTF8MB4} NULL`, sqlite: 'VARCHAR(64) NULL' }],
];

/** Unique indexes added by migration 3: [table, index name, columns]. */
export const V3_UNIQUE_INDEXES: [string, string, string][] = [['check_events', 'check_events_flip_key', 'flip_key']];

/** Our columns in original tables, whose charset migration 3 sets to utf8mb4 on MySQL: [table, column, definition]. */
export const UTF8MB4_COLUMNS: [string, string, string][] = [['check_events', 'message', `VARCHAR(1024) ${UTF8MB4} NULL`]];
