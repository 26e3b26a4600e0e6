/**
 * Schema migrations, applied in order and recorded in schema_migrations. Each step checks what
 * exists first, so a run interrupted half-way (MySQL DDL is not transactional) can simply be repeated.
 */
import type { Driver } from './driver';
import { LEASE_COLUMNS, ORIGINAL_TABLES, OUR_COLUMNS, OUR_INDEXES, OUR_TABLES, UTF8MB4, UTF8MB4_COLLATION, UTF8MB4_COLUMNS, V3_COLUMNS, V3_UNIQUE_INDEXES } from './schema';
import { REMIND_COLUMN } from './schema-ops';
import { PUSH_COLUMNS, PUSH_INDEXES, PUSH_TABLES } from './schema-push';
import { ROLLUP_INDEXES, ROLLUP_TABLE, TAGS_COLUMN } from './schema-web';

interface Migration {
  version: number;
  description: string;
  up(db: Driver): Promise<void>;
}

/** MySQL: converts every table that is not one of the five originals to utf8mb4, and our columns in them. */
async function convertToUtf8mb4(db: Driver): Promise<void> {
  const tables = await db.all(
    "SELECT table_name AS t, table_collation AS c FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'",
  );
  for (const { t, c } of tables) {
    const table = String(t);
    if (table in ORIGINAL_TABLES || c === UTF8MB4_COLLATION) continue;
    await db.run(`ALTER TABLE \`${table}\` CONVERT TO ${UTF8MB4}`);
  }
  for (const [table, column, definition] of UTF8MB4_COLUMNS) {
    const [col] = await db.all(
      'SELECT collation_name AS coll FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ?',
      [table, column],
    );
    if (col && col.coll !== UTF8MB4_COLLATION) await db.run(`ALTER TABLE ${table} MODIFY COLUMN ${column} ${definition}`);
  }
}

async function createTable(db: Driver, table: string, ddl: string): Promise<void> {
  if (!(await db.hasTable(table))) await db.run(ddl);
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'original gobearmon tables (checks, contacts, alerts, check_events, charges)',
    async up(db) {
      for (const [table, ddl] of Object.entries(ORIGINAL_TABLES)) await createTable(db, table, ddl[db.dialect]);
    },
  },
  {
    version: 2,
    description: 'fencing lease, alert outbox and attempt history, check_events.message, indexes',
    async up(db) {
      for (const [table, ddl] of Object.entries(OUR_TABLES)) await createTable(db, table, ddl(db.dialect));
      await db.run(`${db.dialect === 'mysql' ? 'INSERT IGNORE' : 'INSERT OR IGNORE'} INTO controller_lease (id, epoch) VALUES (1, 0)`);
      for (const [table, column, definition] of OUR_COLUMNS) {
        if (!(await db.hasColumn(table, column))) await db.run(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
      }
      for (const [table, name, columns] of OUR_INDEXES) {
        if (!(await db.hasIndex(table, name))) await db.run(`CREATE INDEX ${name} ON ${table} (${columns})`);
      }
    },
  },
  {
    version: 3,
    description: 'alert path: utf8mb4 text, check_events.flip_key (a flip is recorded once), alert_outbox.permanent',
    async up(db) {
      if (db.dialect === 'mysql') await convertToUtf8mb4(db);
      for (const [table, column, definition] of V3_COLUMNS) {
        if (!(await db.hasColumn(table, column))) await db.run(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition[db.dialect]}`);
      }
      for (const [table, name, columns] of V3_UNIQUE_INDEXES) {
        if (!(await db.hasIndex(table, name))) await db.run(`CREATE UNIQUE INDEX ${name} ON ${table} (${columns})`);
      }
    },
  },
  {
    version: 4,
    description: 'office lease: electing view, expiry on the store clock, predecessor expiry, fence counter',
    async up(db) {
      for (const [table, column, definition] of LEASE_COLUMNS) {
        if (!(await db.hasColumn(table, column))) await db.run(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
      }
    },
  },
  {
    version: 5,
    description: 'push checks: pings, push_state, push_clock, push_listening, check_events.kind',
    async up(db) {
      for (const [table, ddl] of Object.entries(PUSH_TABLES)) await createTable(db, table, ddl(db.dialect));
      await db.run(`${db.dialect === 'mysql' ? 'INSERT IGNORE' : 'INSERT OR IGNORE'} INTO push_clock (id, seq, last_ping_at) VALUES (1, 0, 0)`);
      for (const [table, column, definition] of PUSH_COLUMNS) {
        if (!(await db.hasColumn(table, column))) await db.run(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition(db.dialect)}`);
      }
      for (const [table, name, columns] of PUSH_INDEXES) {
        if (!(await db.hasIndex(table, name))) await db.run(`CREATE INDEX ${name} ON ${table} (${columns})`);
      }
    },
  },
  {
    version: 6,
    description: 'web: checks.tags and per-check per-minute rollups',
    async up(db) {
      if (!(await db.hasColumn('checks', 'tags'))) await db.run(`ALTER TABLE checks ADD COLUMN tags ${TAGS_COLUMN[db.dialect]}`);
      await createTable(db, 'check_rollups', ROLLUP_TABLE(db.dialect));
      for (const [table, name, columns] of ROLLUP_INDEXES) {
        if (!(await db.hasIndex(table, name))) await db.run(`CREATE INDEX ${name} ON ${table} (${columns})`);
      }
    },
  },
  {
    version: 7,
    description: 'ops: alerts.remind (seconds between reminders while a check stays offline)',
    async up(db) {
      if (!(await db.hasColumn('alerts', 'remind'))) await db.run(`ALTER TABLE alerts ADD COLUMN remind ${REMIND_COLUMN[db.dialect]}`);
    },
  },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** The highest applied version: 0 for an empty database, 1 for one made by the original install.sql. */
export async function schemaVersion(db: Driver): Promise<number> {
  if (await db.hasTable('schema_migrations')) {
    const rows = await db.all('SELECT MAX(version) AS v FROM schema_migrations');
    return Number(rows[0]?.v ?? 0);
  }
  return (await db.hasTable('checks')) ? 1 : 0;
}

/** Applies what is missing; returns one line per migration applied (empty when up to date). */
export async function migrate(db: Driver): Promise<string[]> {
  const current = await schemaVersion(db);
  // Versions are assigned ahead and may land out of order: apply every one not recorded, not only newer ones.
  const recorded = (await db.hasTable('schema_migrations'))
    ? new Set((await db.all('SELECT version FROM schema_migrations')).map((r) => Number(r.version)))
    : null;
  const pending = MIGRATIONS.filter((m) => (recorded ? !recorded.has(m.version) && m.version > 1 : m.version > current));
  for (const m of pending) await m.up(db);
  // Recorded at the end because schema_migrations itself is created by a migration.
  const insert = db.dialect === 'mysql' ? 'INSERT IGNORE' : 'INSERT OR IGNORE';
  for (const m of MIGRATIONS) {
    await db.run(`${insert} INTO schema_migrations (version, description) VALUES (?, ?)`, [m.version, m.description]);
  }
  return pending.map((m) => `${m.version}: ${m.description}`);
}
