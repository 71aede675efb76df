/**
 * The storage contract suite's backends: every contract test runs unchanged against each. A
 * backend opens the stores exactly as the server does (`openStores`), fresh and empty: SQLite in
 * a new temporary data folder, PostgreSQL in a new schema of the test database (dropped on
 * close), so parallel test files never see each other's rows.
 *
 * PostgreSQL is `MOIM_TEST_DATABASE_URL` (default: the local server's `test` database, trust auth).
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach } from 'vitest';
import { openStores, type Stores } from '../index.ts';

export const TEST_DATABASE_URL = process.env.MOIM_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface OpenedBackend {
  stores: Stores;
  /** Close the stores and remove everything they stored. */
  close(): Promise<void>;
}

export interface Backend {
  name: 'sqlite' | 'postgres';
  open(): Promise<OpenedBackend>;
}

/** A schema name no other run uses. */
export function uniqueSchema(prefix = 't'): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** Drop a test schema and everything in it. */
export async function dropSchema(schema: string, url = TEST_DATABASE_URL): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

export const sqliteBackend: Backend = {
  name: 'sqlite',
  async open() {
    const dir = mkdtempSync(path.join(tmpdir(), 'moim-contract-'));
    const stores = await openStores({ dataDir: dir });
    return {
      stores,
      async close() {
        await stores.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

export const postgresBackend: Backend = {
  name: 'postgres',
  async open() {
    const dir = mkdtempSync(path.join(tmpdir(), 'moim-contract-pg-'));
    const schema = uniqueSchema('contract');
    const stores = await openStores({ dataDir: dir, databaseUrl: TEST_DATABASE_URL, databaseSchema: schema });
    return {
      stores,
      async close() {
        try {
          await stores.close();
        } finally {
          await dropSchema(schema);
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  },
};

/** Every backend, for `describe.each(BACKENDS)`. */
export const BACKENDS: readonly Backend[] = [sqliteBackend, postgresBackend];

/**
 * Open the backend before each test of the calling `describe` and close it (removing what it
 * stored) after; `use` gets the test's stores.
 */
export function useStores(backend: Backend, use: (stores: Stores) => void): void {
  let opened: OpenedBackend | undefined;
  beforeEach(async () => {
    opened = await backend.open();
    use(opened.stores);
  });
  afterEach(async () => {
    await opened?.close();
    opened = undefined;
  });
}
