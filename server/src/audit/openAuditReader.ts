/**
 * Open a node's audit log for reading only, without the data folder's lock (the verifier runs
 * next to a live server): SQLite in WAL mode lets a reader in beside the writer; PostgreSQL through
 * its own small pool. No migration is run.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { AuditStore } from '../storage/AuditStore.ts';
import { SqliteAuditStore } from '../storage/sqlite/SqliteAuditStore.ts';
import { SqliteDb } from '../storage/sqlite/SqliteDb.ts';

export async function openAuditReader(opts: {
  dataDir: string;
  databaseUrl?: string | undefined;
  databaseSchema?: string | undefined;
}): Promise<{ store: AuditStore; close(): Promise<void> }> {
  if (opts.databaseUrl) {
    const { PgDb } = await import('../storage/postgres/PgDb.ts');
    const { PgAuditStore } = await import('../storage/postgres/PgAuditStore.ts');
    const db = await PgDb.open({ url: opts.databaseUrl, schema: opts.databaseSchema, max: 2 });
    return { store: new PgAuditStore(db), close: () => db.close() };
  }
  const file = path.join(opts.dataDir, 'moim.sqlite');
  if (!existsSync(file)) throw new Error(`no database at ${file} (MOIM_DATA_DIR)`);
  const db = SqliteDb.open(file);
  return {
    store: new SqliteAuditStore(db),
    close: async () => db.close(),
  };
}
