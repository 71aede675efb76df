/**
 * The stores of the cluster mode, on one PostgreSQL database shared by every node: everything a
 * node stores (attachments included) is readable from every other node, so nothing lives in the
 * node's data folder. Migrations run once, whichever node starts first. Without the cluster's
 * Redis (`clustered` false) the node holds an advisory lock so a second node cannot share the
 * database unknowingly.
 */
import type { StorageOptions, Stores } from '../index.ts';
import { pgMigrations } from './migrations/index.ts';
import { PgApprovalStore } from './PgApprovalStore.ts';
import { PgAttendanceStore } from './PgAttendanceStore.ts';
import { PgAuditStore } from './PgAuditStore.ts';
import { PgAuthStore } from './PgAuthStore.ts';
import { PgBlobStore } from './PgBlobStore.ts';
import { PgCallHistoryStore } from './PgCallHistoryStore.ts';
import { PgChatStore } from './PgChatStore.ts';
import { PgContentPolicyStore } from './PgContentPolicyStore.ts';
import { PgDb } from './PgDb.ts';
import { PgDirectoryStore } from './PgDirectoryStore.ts';
import { PgDocStore } from './PgDocStore.ts';
import { PgDocTitleStore } from './PgDocTitleStore.ts';
import { PgPresenceStore } from './PgPresenceStore.ts';
import { PgRecordingStore } from './PgRecordingStore.ts';
import { PgRoomStore } from './PgRoomStore.ts';
import { PgTeleworkStore } from './PgTeleworkStore.ts';
import { PgWorkReportStore } from './PgWorkReportStore.ts';

export async function openPgStores(opts: StorageOptions & { databaseUrl: string }): Promise<Stores> {
  const db = await PgDb.open({ url: opts.databaseUrl, schema: opts.databaseSchema, log: opts.log });
  try {
    // without Redis nothing tells the nodes of each other's chat, presence or documents: one node only
    if (!opts.clustered && !(await db.holdLock(`moim-single-node:${db.schema}`)))
      throw new Error(
        `another moim node uses the PostgreSQL schema "${db.schema}" without REDIS_URL; set REDIS_URL on every node to run a cluster`,
      );
    await db.migrate(pgMigrations);
  } catch (err) {
    await db.close();
    throw err;
  }
  const chat = new PgChatStore(db, {
    commitIntervalMs: opts.chatCommitIntervalMs,
    onCommit: opts.onChatCommit,
    log: opts.log,
  });
  const docs = new PgDocStore(db);
  let lastPing: { at: number; up: Promise<boolean> } | undefined;
  return {
    kind: 'postgres',
    chat,
    docs,
    docTitles: new PgDocTitleStore(db),
    blobs: new PgBlobStore(db),
    audit: new PgAuditStore(db),
    presence: new PgPresenceStore(db),
    rooms: new PgRoomStore(db),
    telework: new PgTeleworkStore(db),
    attendance: new PgAttendanceStore(db),
    approvals: new PgApprovalStore(db),
    directory: new PgDirectoryStore(db),
    reports: new PgWorkReportStore(db),
    calls: new PgCallHistoryStore(db),
    auth: new PgAuthStore(db),
    recordings: new PgRecordingStore(db),
    policies: new PgContentPolicyStore(db),
    async checks() {
      // one ping answers every check asked within a second (readiness asks twice), as the data
      // folder's checks are cached; the database's disk is PostgreSQL's to watch (a full one
      // answers STORAGE_FULL per write)
      const now = Date.now();
      if (!lastPing || now - lastPing.at > 1000) lastPing = { at: now, up: db.ping() };
      const up = await lastPing.up;
      return { storage: up, diskSpace: up };
    },
    async close() {
      try {
        await docs.close();
        await chat.close();
      } finally {
        await db.close();
      }
    },
  };
}
