/** Rows of the `recordings` table on both backends, and their records. */
import type { RecordingManifest, Tier } from '@moim/protocol';
import type { StoredRecording, StoredRecordingFile, StoredRecordingState } from './RecordingStore.ts';

export const RECORDING_COLUMNS =
  'id, org, room_id, tier, started_by, started_at, ended_at, state, failure, expires_at, manifest, files';

export interface RecordingRow {
  id: string;
  org: string;
  room_id: string;
  tier: string;
  started_by: string;
  started_at: number | string;
  ended_at: number | string | null;
  state: string;
  failure: string | null;
  expires_at: number | string | null;
  manifest: string;
  files: string;
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

export function toRecording(row: RecordingRow): StoredRecording {
  return {
    id: row.id,
    org: row.org,
    roomId: row.room_id,
    tier: row.tier as Tier,
    startedBy: row.started_by,
    startedAt: Number(row.started_at),
    endedAt: num(row.ended_at),
    state: row.state as StoredRecordingState,
    failure: row.failure,
    expiresAt: num(row.expires_at),
    manifest: JSON.parse(row.manifest) as RecordingManifest,
    files: JSON.parse(row.files) as StoredRecordingFile[],
  };
}
