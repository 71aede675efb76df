import { z } from 'zod';
import { TIERS, type Tier } from './constants.ts';
import { roomIdSchema } from './media.ts';
import type { MediaSource } from './tiers.ts';

/**
 * Meeting recording. Who may start a recording: a person whose token grants `record` in the
 * room, in a tier whose policy allows recording. Everyone in the room is told
 * (`room:recordingChanged`), and anyone who joins while it runs is told at once after joining.
 * Each producer is recorded without re-encoding into its own WebM file per segment (a new segment
 * when the producer is paused and resumed, or replaced); the manifest gives each segment's
 * wall-clock start so the tracks can be aligned. Files are downloadable through
 * `GET /recordings/<id>/files/<file>` (audited) by people the tier's policy allows, never when
 * `downloadsAllowed` is false; they are deleted `retentionDays` after the recording ended.
 */

/** What a tier's rooms allow (configured per tier, MOIM_RECORDING_POLICY). */
export interface RecordingPolicy {
  /** Whether rooms of this tier may be recorded at all (by people granted `record`). */
  record: boolean;
  /** False: nobody downloads the files (they are kept for the retention period all the same). */
  downloadsAllowed: boolean;
  /**
   * Who downloads: `recorders` = people granted `record` or `moderate` in the room and the room's
   * owner; `participants` = also everyone granted `join`.
   */
  downloadBy: 'recorders' | 'participants';
  /** Days the files are kept after the recording ended (then deleted). */
  retentionDays: number;
}

export const recordingPolicySchema = z
  .object({
    record: z.boolean(),
    downloadsAllowed: z.boolean(),
    downloadBy: z.enum(['recorders', 'participants']),
    retentionDays: z.number().int().min(1).max(3650),
  })
  .strict();

export const recordingPoliciesSchema = z.object(
  Object.fromEntries(TIERS.map((t) => [t, recordingPolicySchema])) as Record<Tier, typeof recordingPolicySchema>,
);

export const DEFAULT_RECORDING_POLICIES: Record<Tier, RecordingPolicy> = {
  personal: { record: true, downloadsAllowed: true, downloadBy: 'recorders', retentionDays: 30 },
  standard: { record: true, downloadsAllowed: true, downloadBy: 'recorders', retentionDays: 30 },
  immersive: { record: true, downloadsAllowed: true, downloadBy: 'recorders', retentionDays: 30 },
};

/**
 * `recording`: running. `saving`: stopped (or failing), its recorders finishing their files and the
 * files being stored — the room hears it at once; a stop answers with it when storing takes longer
 * than RECORDING_KEEP_WAIT_MS after the recorders ended; `stopped` or `failed` follows in
 * `room:recordingChanged`, and the room cannot be recorded again until then. `stopped`, `failed`: ended.
 */
export const RECORDING_STATES = ['recording', 'saving', 'stopped', 'failed'] as const;
export type RecordingState = (typeof RECORDING_STATES)[number];

/** One file: a stretch of one producer between a start (or resume) and a stop (or pause, close). */
export interface RecordingSegment {
  /** The file's name in the recording (`<track>-<n>.webm`), as the download path takes it. */
  file: string;
  producerId: string;
  /** Wall-clock ms (server) when the segment's first packet was asked for: align tracks on it. */
  startedAt: number;
  endedAt: number | null;
  bytes: number;
  /** `recording`: running; `ok`: ffmpeg ended it; `failed`: ffmpeg died or the file was not kept. */
  status: 'recording' | 'ok' | 'failed';
}

/** One track: a person's source (camera 0, mic, …), in one or more segments. */
export interface RecordingTrack {
  track: string;
  peerId: string;
  sub: string;
  displayName: string;
  kind: 'audio' | 'video';
  source: MediaSource;
  index: number;
  /** `video/VP8`, `video/VP9` or `audio/opus` (others are not recorded). */
  mimeType: string;
  segments: RecordingSegment[];
}

export interface RecordingManifest {
  recordingId: string;
  roomId: string;
  startedAt: number;
  endedAt: number | null;
  tracks: RecordingTrack[];
}

export interface RecordingInfo {
  recordingId: string;
  roomId: string;
  state: RecordingState;
  startedBy: string;
  startedAt: number;
  endedAt: number | null;
  /** Why it failed (a recorder died, the room closed, the node stopped), else null. */
  failure: string | null;
  /** When the files are deleted (ended + the tier's retention); null while recording. */
  expiresAt: number | null;
  manifest: RecordingManifest;
}

const room = { roomId: roomIdSchema };

/** Client→server requests of this area. */
export const recordingRequests = {
  /** Start recording the room (needs `record` and a tier policy that allows it; CONFLICT when one runs). */
  'room:startRecording': z.object(room).strict(),
  /** Stop the room's running recording (needs `record`, or `moderate`). */
  'room:stopRecording': z.object(room).strict(),
  /** The room's recordings (needs `join`), newest first. */
  'room:recordings': z.object(room).strict(),
} as const satisfies Record<string, z.ZodType>;

export interface RecordingResponses {
  'room:startRecording': RecordingInfo;
  'room:stopRecording': RecordingInfo;
  'room:recordings': { recordings: RecordingInfo[]; policy: RecordingPolicy };
}

export interface RecordingServerEvents {
  /**
   * A recording of the room started, is being saved (stopped, its files being finished and stored),
   * stopped or failed (a recorder died); also sent to a person right after they joined while a
   * recording runs or is being saved, so everyone in the room knows.
   */
  'room:recordingChanged': (e: { roomId: string; recording: RecordingInfo }) => void;
}

/** A recording file name: what `GET /recordings/<id>/files/<file>` accepts. */
export const recordingFileSchema = z.string().regex(/^t\d{1,3}-\d{1,4}\.webm$/, 'a recording file name');
