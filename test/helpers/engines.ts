/** Both SQL engines the store runs on, each able to make a fresh, empty database for one test. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from './db';

export interface EngineDb {
  /** A DSN openStore accepts. */
  dsn: string;
  /** Removes the database (and its files). */
  drop(): Promise<void>;
}

export interface Engine {
  name: 'mysql' | 'sqlite';
  create(): Promise<EngineDb>;
}

export const ENGINES: Engine[] = [
  {
    name: 'mysql',
    async create() {
      const db = await createTestDatabase();
      return { dsn: db.urlDsn, drop: () => db.drop() };
    },
  },
  {
    name: 'sqlite',
    async create() {
      const dir = mkdtempSync(join(tmpdir(), 'gbm-store-'));
      return { dsn: `sqlite:${join(dir, 'gobearmon.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
];
