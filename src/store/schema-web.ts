/**
 * Migration 6 (the web role, SPEC §11): `checks.tags` and the per-check per-minute rollups.
 * Kept apart from schema.ts so the web's DDL reads in one place; install.sql holds the MySQL side.
 */
import type { Dialect } from './schema';

/** `checks.tags`: free text, words separated by commas or spaces. */
export const TAGS_COLUMN: Record<Dialect, string> = {
  mysql: "VARCHAR(1024) CHARACTER SET utf8mb4 NOT NULL DEFAULT ''",
  sqlite: "VARCHAR(1024) NOT NULL DEFAULT ''",
};

/**
 * One row per (check, minute, epoch): the results that controller epoch applied in that minute.
 * The epoch is in the key so a controller only ever overwrites its own totals (written whole, not
 * added), which makes a retried flush harmless and a failover unable to double a minute; readers
 * sum the epochs of a minute. `minute` is epoch milliseconds / 60000 on the controller's clock.
 */
export const ROLLUP_TABLE = (d: Dialect): string => `CREATE TABLE check_rollups (
  check_id INT NOT NULL,
  minute BIGINT NOT NULL,
  epoch BIGINT NOT NULL,
  runs INT NOT NULL,
  failures INT NOT NULL,
  sum_ms BIGINT NOT NULL,
  max_ms INT NOT NULL,
  last_at BIGINT NOT NULL,
  last_ms INT NOT NULL,
  last_ok TINYINT(1) NOT NULL,
  PRIMARY KEY (check_id, minute, epoch)
)${d === 'mysql' ? ' DEFAULT CHARSET=utf8mb4' : ''}`;

/** Retention deletes by minute across all checks. */
export const ROLLUP_INDEXES: [string, string, string][] = [['check_rollups', 'check_rollups_minute', 'minute']];
