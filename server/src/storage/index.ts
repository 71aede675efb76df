import path from 'node:path';
import type { Logger } from '../logger.ts';
import type { ApprovalStore } from './ApprovalStore.ts';
import type { AttendanceStore } from './AttendanceStore.ts';
import type { AuditStore } from './AuditStore.ts';
import type { AuthStore } from './AuthStore.ts';
import type { BlobStore } from './BlobStore.ts';
import type { CallHistoryStore } from './CallHistoryStore.ts';
import type { ChatStore } from './ChatStore.ts';
import type { ContentPolicyStore } from './ContentPolicyStore.ts';
import { prepareDataDir } from './DataDir.ts';
import { DataDirHealth, type StorageChecks } from './DataDirHealth.ts';
import { DataDirLock } from './DataDirLock.ts';
import type { DirectoryStore } from './DirectoryStore.ts';
import type { DocStore } from './DocStore.ts';
import type { DocTitleStore } from './DocTitleStore.ts';
import { FsBlobStore } from './FsBlobStore.ts';
import type { PresenceStore } from './PresenceStore.ts';
import type { RecordingStore } from './RecordingStore.ts';
import type { RoomStore } from './RoomStore.ts';
import { sqliteMigrations } from './sqlite/migrations/index.ts';
import { SqliteApprovalStore } from './sqlite/SqliteApprovalStore.ts';
import { SqliteAttendanceStore } from './sqlite/SqliteAttendanceStore.ts';
import { SqliteAuditStore } from './sqlite/SqliteAuditStore.ts';
import { SqliteAuthStore } from './sqlite/SqliteAuthStore.ts';
import { SqliteCallHistoryStore } from './sqlite/SqliteCallHistoryStore.ts';
import { SqliteChatStore } from './sqlite/SqliteChatStore.ts';
import { SqliteContentPolicyStore } from './sqlite/SqliteContentPolicyStore.ts';
import { SqliteDb } from './sqlite/SqliteDb.ts';
import { SqliteDirectoryStore } from './sqlite/SqliteDirectoryStore.ts';
import { SqliteDocStore } from './sqlite/SqliteDocStore.ts';
import { SqliteDocTitleStore } from './sqlite/SqliteDocTitleStore.ts';
import { SqlitePresenceStore } from './sqlite/SqlitePresenceStore.ts';
import { SqliteRecordingStore } from './sqlite/SqliteRecordingStore.ts';
import { SqliteRoomStore } from './sqlite/SqliteRoomStore.ts';
import { SqliteTeleworkStore } from './sqlite/SqliteTeleworkStore.ts';
import { SqliteWorkReportStore } from './sqlite/SqliteWorkReportStore.ts';
import type { TeleworkStore } from './TeleworkStore.ts';
import type { WorkReportStore } from './WorkReportStore.ts';

export type { ApprovalStore, StoredApproval, StoredRequestDay } from './ApprovalStore.ts';
export type { AttendanceStore, StoredAttendance } from './AttendanceStore.ts';
export type { AuditAnchor, AuditChainRow, AuditEntry, AuditStore, StoredAuditEntry } from './AuditStore.ts';
export type { AccountProfile, AuthStore, StoredPasskey, StoredSigningKey } from './AuthStore.ts';
export type { BlobStore, StoredBlob } from './BlobStore.ts';
export type { CallHistoryRecord, CallHistoryRecordPage, CallHistoryStore } from './CallHistoryStore.ts';
export type { ChatStore } from './ChatStore.ts';
export type { ContentPolicyStore, PolicyKind, StoredContentPolicy } from './ContentPolicyStore.ts';
export { DataDirError } from './DataDir.ts';
export type { StorageChecks } from './DataDirHealth.ts';
export type { DirectoryImportCounts, DirectoryRecord, DirectoryStore } from './DirectoryStore.ts';
export type {
  DocContentRows,
  DocRecord,
  DocStore,
  DocVersionInput,
  StoredDocUpdate,
  StoredDocVersion,
} from './DocStore.ts';
export type { DocTitleStore, StoredDocTitle } from './DocTitleStore.ts';
export type { PresenceRecord, PresenceStore } from './PresenceStore.ts';
export type { RecordingEnd, RecordingStore, StoredRecording, StoredRecordingFile } from './RecordingStore.ts';
export type { RoomRecord, RoomStore } from './RoomStore.ts';
export type { TeleworkStore } from './TeleworkStore.ts';

/** Every store the services use. Each is an async interface with a SQLite and (cluster) PostgreSQL implementation. */
export interface Stores {
  readonly kind: 'sqlite' | 'postgres';
  readonly audit: AuditStore;
  readonly chat: ChatStore;
  /** Attachments (files under `<dataDir>/blobs`). */
  readonly blobs: BlobStore;
  readonly docs: DocStore;
  /** Stored titles of documents (free text beside the name), per organisation. */
  readonly docTitles: DocTitleStore;
  readonly presence: PresenceStore;
  readonly rooms: RoomStore;
  /** Telework sites and places, per organisation. */
  readonly telework: TeleworkStore;
  /** Telework attendance days (one per person per working day), per organisation. */
  readonly attendance: AttendanceStore;
  /** Approval documents (e-approval), delegations and telework request days, per organisation. */
  readonly approvals: ApprovalStore;
  /** The telework org directory (people, managers, priority categories) and holiday calendar, per organisation. */
  readonly directory: DirectoryStore;
  /** Work reports of telework days (their text is a document), per organisation. */
  readonly reports: WorkReportStore;
  /** Call history (one entry per person and call), per organisation. */
  readonly calls: CallHistoryStore;
  /** Sign-in records: signing keys, challenges, identity links, passkeys, revocations (issue 17). */
  readonly auth: AuthStore;
  /** Meeting recordings (their files are in `blobs`), per organisation. */
  readonly recordings: RecordingStore;
  /** Data-leak policies of rooms, channels and documents, per organisation. */
  readonly policies: ContentPolicyStore;
  /** Readiness of the data folder: it takes a write (and is still locked by us), free space ≥ floor. */
  checks(): Promise<StorageChecks>;
  /** Flush and close every store, then release the data folder. */
  close(): Promise<void>;
}

export interface StorageOptions {
  dataDir: string;
  /** PostgreSQL (`postgres://…`): every store there instead of SQLite in the data folder (cluster mode). */
  databaseUrl?: string | undefined;
  /** PostgreSQL schema of moim's tables (MOIM_DATABASE_SCHEMA). @default 'public' */
  databaseSchema?: string | undefined;
  /** Other nodes share the PostgreSQL database (REDIS_URL set); else this node locks it for itself. */
  clustered?: boolean | undefined;
  /** Chat group-commit pacing under load (MOIM_CHAT_COMMIT_INTERVAL_MS). */
  chatCommitIntervalMs?: number | undefined;
  /** SQLite: commit chat and document writes on their own threads, else on the event loop (MOIM_SQLITE_WRITE_THREADS). @default true */
  writeThreads?: boolean | undefined;
  /** Told after each chat group commit: writes in it and its duration (moim_chat_commit_* metrics). */
  onChatCommit?: ((writes: number, seconds: number) => void) | undefined;
  /** Free-space floor of the data disk (MOIM_DATA_MIN_FREE_BYTES). @default 0 */
  minFreeBytes?: number | undefined;
  log?: Logger | undefined;
}

/**
 * Open every store: on PostgreSQL when `databaseUrl` is set (openPgStores.ts), else on the data
 * folder. The folder is checked first (exists or can be created, takes a write: DataDirError
 * naming it and the reason otherwise) and locked for this process (DataDirError when another moim
 * runs on it), then the database is opened and migrated.
 */
/** Longest wait for the storage write threads at start-up (they start on first use after that). */
const WORKER_START_TIMEOUT_MS = 10_000;

export async function openStores(opts: StorageOptions): Promise<Stores> {
  if (opts.databaseUrl) {
    // loaded only here: a single node on SQLite never loads the PostgreSQL client
    const { openPgStores } = await import('./postgres/openPgStores.ts');
    return openPgStores({ ...opts, databaseUrl: opts.databaseUrl });
  }
  const dir = prepareDataDir(opts.dataDir);
  const lock = DataDirLock.acquire(dir, { log: opts.log });
  let db: SqliteDb | undefined;
  try {
    db = SqliteDb.open(path.join(dir, 'moim.sqlite'));
    db.migrate(sqliteMigrations);
  } catch (err) {
    db?.close();
    lock.release();
    throw err;
  }
  const opened = db;
  const health = new DataDirHealth({ dir, minFreeBytes: opts.minFreeBytes ?? 0, lock, log: opts.log });
  const chat = new SqliteChatStore(opened, {
    commitIntervalMs: opts.chatCommitIntervalMs,
    onCommit: opts.onChatCommit,
    writeInWorker: opts.writeThreads ?? true,
  });
  const docs = new SqliteDocStore(opened, { appendInWorker: opts.writeThreads ?? true });
  const presence = new SqlitePresenceStore(opened);
  const audit = new SqliteAuditStore(opened);
  // the write threads boot before the node says it is ready (bounded): the first message or
  // document edit of a fresh process must not wait for a thread to load its module and open the file
  await Promise.all([docs.warm(WORKER_START_TIMEOUT_MS), chat.warm(WORKER_START_TIMEOUT_MS)]).catch((err: unknown) =>
    opts.log?.warn({ err }, 'a storage write worker did not start before ready; it starts on first use'),
  );
  return {
    kind: 'sqlite',
    chat,
    blobs: new FsBlobStore(path.join(dir, 'blobs'), { space: health, log: opts.log }),
    audit,
    docs,
    docTitles: new SqliteDocTitleStore(opened),
    presence,
    rooms: new SqliteRoomStore(opened),
    telework: new SqliteTeleworkStore(opened),
    attendance: new SqliteAttendanceStore(opened),
    approvals: new SqliteApprovalStore(opened),
    directory: new SqliteDirectoryStore(opened),
    reports: new SqliteWorkReportStore(opened),
    calls: new SqliteCallHistoryStore(opened),
    auth: new SqliteAuthStore(opened),
    recordings: new SqliteRecordingStore(opened),
    policies: new SqliteContentPolicyStore(opened),
    checks: () => health.checks(),
    async close() {
      try {
        await docs.close();
        await chat.close();
        // presence saves are group-committed on the next turn: write the last ones first
        presence.flushAll();
        audit.flushAll();
        opened.close();
      } finally {
        lock.release();
      }
    },
  };
}
