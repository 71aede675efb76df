import path from 'node:path';
import type { AuditStore } from './AuditStore.ts';
import type { BlobStore } from './BlobStore.ts';
import type { ChatStore } from './ChatStore.ts';
import type { DocStore } from './DocStore.ts';
import { FsBlobStore } from './FsBlobStore.ts';
import type { PresenceStore } from './PresenceStore.ts';
import type { RoomStore } from './RoomStore.ts';
import { sqliteMigrations } from './sqlite/migrations/index.ts';
import { SqliteAuditStore } from './sqlite/SqliteAuditStore.ts';
import { SqliteChatStore } from './sqlite/SqliteChatStore.ts';
import { SqliteDb } from './sqlite/SqliteDb.ts';
import { SqliteDocStore } from './sqlite/SqliteDocStore.ts';
import { SqlitePresenceStore } from './sqlite/SqlitePresenceStore.ts';
import { SqliteRoomStore } from './sqlite/SqliteRoomStore.ts';

export type { AuditEntry, AuditStore, StoredAuditEntry } from './AuditStore.ts';
export type { BlobStore, StoredBlob } from './BlobStore.ts';
export type { ChatStore } from './ChatStore.ts';
export type {
  DocContentRows,
  DocRecord,
  DocStore,
  DocVersionInput,
  StoredDocUpdate,
  StoredDocVersion,
} from './DocStore.ts';
export type { PresenceRecord, PresenceStore } from './PresenceStore.ts';
export type { RoomRecord, RoomStore } from './RoomStore.ts';

/** Every store the services use. Each is an async interface with a SQLite and (cluster) PostgreSQL implementation. */
export interface Stores {
  readonly kind: 'sqlite' | 'postgres';
  readonly audit: AuditStore;
  readonly chat: ChatStore;
  /** Attachments (files under `<dataDir>/blobs`). */
  readonly blobs: BlobStore;
  readonly docs: DocStore;
  readonly presence: PresenceStore;
  readonly rooms: RoomStore;
  /** Flush and close every store. */
  close(): Promise<void>;
}

export interface StorageOptions {
  dataDir: string;
  databaseUrl?: string | undefined;
  /** Chat group-commit pacing under load (MOIM_CHAT_COMMIT_INTERVAL_MS). */
  chatCommitIntervalMs?: number | undefined;
}

export async function openStores(opts: StorageOptions): Promise<Stores> {
  if (opts.databaseUrl) {
    throw new Error('DATABASE_URL (PostgreSQL) arrives with the cluster mode (not built yet); unset it to use SQLite');
  }
  const db = SqliteDb.open(path.join(opts.dataDir, 'moim.sqlite'));
  db.migrate(sqliteMigrations);
  const chat = new SqliteChatStore(db, { commitIntervalMs: opts.chatCommitIntervalMs });
  const docs = new SqliteDocStore(db);
  return {
    kind: 'sqlite',
    chat,
    blobs: new FsBlobStore(path.join(opts.dataDir, 'blobs')),
    audit: new SqliteAuditStore(db),
    docs,
    presence: new SqlitePresenceStore(db),
    rooms: new SqliteRoomStore(db),
    async close() {
      await docs.close();
      await chat.close();
      db.close();
    },
  };
}
