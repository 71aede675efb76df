import type { Migration } from '../SqliteDb.ts';

/** Shared documents (id range 0200). */
export const docsMigrations: Migration[] = [
  {
    id: '0200_docs',
    sql: `CREATE TABLE docs (
      name TEXT PRIMARY KEY,
      owner TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      export_allowed INTEGER NOT NULL DEFAULT 1,
      state BLOB,
      state_seq INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE doc_updates (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      doc_name TEXT NOT NULL,
      data BLOB NOT NULL
    );
    CREATE INDEX doc_updates_doc ON doc_updates (doc_name, id);
    CREATE TABLE doc_versions (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      doc_name TEXT NOT NULL,
      label TEXT NOT NULL,
      auto INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      created_by TEXT NOT NULL,
      bytes INTEGER NOT NULL,
      state BLOB NOT NULL
    );
    CREATE INDEX doc_versions_doc ON doc_versions (doc_name, id);`,
  },
];
