/**
 * Migration 7 (operator experience): `alerts.remind`, seconds between reminders while the check
 * stays offline (NULL or 0: no reminders, the original's behaviour). install.sql holds the MySQL side.
 */
import type { Dialect } from './schema';

export const REMIND_COLUMN: Record<Dialect, string> = {
  mysql: 'INT NULL DEFAULT NULL',
  sqlite: 'INT NULL DEFAULT NULL',
};
