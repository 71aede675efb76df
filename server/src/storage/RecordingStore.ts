import type { RecordingManifest, RecordingState, Tier } from '@moim/protocol';

/** Where one file of a recording is kept (its blob) and its size. */
export interface StoredRecordingFile {
  file: string;
  blobKey: string;
  bytes: number;
}

/** A meeting recording's stored record. Its organisation and room never change. */
export interface StoredRecording {
  id: string;
  org: string;
  roomId: string;
  /** The room's tier when it was recorded (its policy decides downloads and retention). */
  tier: Tier;
  startedBy: string;
  startedAt: number;
  endedAt: number | null;
  /** As stored: `recording` until it ended (`saving` is the recording service's, never stored). */
  state: StoredRecordingState;
  failure: string | null;
  /** When the files are deleted (set when it ends). */
  expiresAt: number | null;
  manifest: RecordingManifest;
  files: StoredRecordingFile[];
}

/** The states a recording's record holds. */
export type StoredRecordingState = Exclude<RecordingState, 'saving'>;

export interface RecordingEnd {
  state: Exclude<StoredRecordingState, 'recording'>;
  endedAt: number;
  failure: string | null;
  expiresAt: number;
  manifest: RecordingManifest;
  files: StoredRecordingFile[];
}

/** Meeting recordings (their files are blobs: readable from every node of a cluster). */
export interface RecordingStore {
  /** Store a new running recording, recorded by node `nodeId`; CONFLICT when the id exists. */
  create(rec: NewRecording): Promise<void>;
  /** End a running recording (once: false when it had ended already or does not exist). */
  finish(id: string, end: RecordingEnd): Promise<boolean>;
  /** Recording `id` of organisation `org`; undefined for another org's. */
  get(org: string, id: string): Promise<StoredRecording | undefined>;
  /** The room's recordings, newest first. */
  listForRoom(org: string, roomId: string, limit: number): Promise<StoredRecording[]>;
  /** Ended recordings whose `expiresAt` ≤ `now`, oldest first. */
  expired(now: number, limit: number): Promise<StoredRecording[]>;
  /** Forget a recording (its blobs are deleted by the caller first). */
  delete(id: string): Promise<void>;
  /** Recordings still `recording` that were started before `before` (a node stopped without ending them): failed. */
  failRunning(before: number, failure: string): Promise<number>;
  /** Recordings still `recording` by node `nodeId` (it died): failed, ended `at`. */
  failRunningOn(nodeId: string, failure: string, at: number): Promise<number>;
}

export type NewRecording = Omit<StoredRecording, 'endedAt' | 'failure' | 'expiresAt' | 'files'> & { nodeId: string };
