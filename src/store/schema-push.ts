/**
 * Push checks' tables (migration 5). Times are epoch milliseconds. Receivers write pings, push_state
 * and push_listening; the controller in office reads them and writes flips through the outbox.
 */
import type { Dialect } from './schema';

const autoId: Record<Dialect, string> = { mysql: 'BIGINT NOT NULL PRIMARY KEY AUTO_INCREMENT', sqlite: 'INTEGER PRIMARY KEY AUTOINCREMENT' };
const utf8mb4 = (d: Dialect) => (d === 'mysql' ? ' DEFAULT CHARSET=utf8mb4' : '');

export const PUSH_TABLES: Record<string, (d: Dialect) => string> = {
  // The last 100 pings of each check (older ones are pruned as new ones arrive).
  pings: (d) => `CREATE TABLE pings (
  id ${autoId[d]},
  check_id INT NOT NULL,
  kind VARCHAR(16) NOT NULL,
  exit_status INT NULL,
  rid VARCHAR(64) NULL,
  body TEXT NULL,
  received_at BIGINT NOT NULL,
  node VARCHAR(255) NOT NULL DEFAULT '',
  remote VARCHAR(64) NOT NULL DEFAULT '',
  route VARCHAR(16) NOT NULL DEFAULT ''
)${utf8mb4(d)}`,
  // One row per push check: what its pings established. seq orders changes for the controller.
  push_state: (d) => `CREATE TABLE push_state (
  check_id INT NOT NULL PRIMARY KEY,
  seq BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  last_ping_at BIGINT NULL,
  last_kind VARCHAR(16) NULL,
  last_success_at BIGINT NULL,
  last_outcome VARCHAR(16) NULL,
  last_outcome_at BIGINT NULL,
  last_message VARCHAR(1024) NULL,
  fails BIGINT NOT NULL DEFAULT 0,
  run_started_at BIGINT NULL,
  run_rid VARCHAR(64) NULL,
  deregistered_at BIGINT NULL,
  pings INT NOT NULL DEFAULT 0
)${utf8mb4(d)}`,
  // One row: serialises ping batches (so seq and ping ids follow commit order) and says when the
  // cluster last received any ping.
  push_clock: () => `CREATE TABLE push_clock (
  id INT NOT NULL PRIMARY KEY,
  seq BIGINT NOT NULL DEFAULT 0,
  last_ping_at BIGINT NOT NULL DEFAULT 0
)`,
  // When each push listener was accepting pings: one row per session, extended while it runs.
  push_listening: (d) => `CREATE TABLE push_listening (
  id ${autoId[d]},
  node VARCHAR(255) NOT NULL,
  from_at BIGINT NOT NULL,
  to_at BIGINT NOT NULL
)${utf8mb4(d)}`,
};

export const PUSH_INDEXES: [string, string, string][] = [
  ['pings', 'pings_check', 'check_id, id'],
  ['push_state', 'push_state_seq', 'seq'],
  ['push_listening', 'push_listening_to', 'to_at'],
];

/** Lifecycle events (new, deregistered, comeback) are check_events rows with a kind and no type. */
export const PUSH_COLUMNS: [string, string, (d: Dialect) => string][] = [
  ['check_events', 'kind', (d) => (d === 'mysql' ? 'VARCHAR(16) CHARACTER SET utf8mb4 NULL' : 'VARCHAR(16) NULL')],
];
