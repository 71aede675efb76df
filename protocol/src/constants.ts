/**
 * The protocol's plain constants (no validation library): what clients need at run time. The
 * zod schemas that validate payloads live in the area modules and import these.
 */

// Roles, grants and room tiers (claims.ts)
export const ROLES = ['admin', 'manager', 'member'] as const;
export type Role = (typeof ROLES)[number];

/** `record`: start and stop recordings of the room (recording.ts), where its tier's policy allows. */
export const ROOM_GRANTS = ['join', 'publish', 'subscribe', 'moderate', 'record'] as const;
export type RoomGrant = (typeof ROOM_GRANTS)[number];

export const DOC_GRANTS = ['read', 'write'] as const;
export type DocGrant = (typeof DOC_GRANTS)[number];

export const TIERS = ['personal', 'standard', 'immersive'] as const;
export type Tier = (typeof TIERS)[number];

// Shared documents on /yjs/<docName> (docs.ts)
/** y-websocket message types (first varUint of every binary frame). */
export const DOC_MESSAGE = {
  sync: 0,
  awareness: 1,
  /** y-protocols/auth: `[2, 0 (permission denied), reason]` tells a read-only client its update was refused. */
  auth: 2,
  queryAwareness: 3,
} as const;
export type DocMessageType = (typeof DOC_MESSAGE)[keyof typeof DOC_MESSAGE];

/** y-protocols/sync sub-types. */
export const DOC_SYNC_MESSAGE = { step1: 0, step2: 1, update: 2 } as const;

/**
 * WebSocket close codes of `/yjs/<docName>`. A refused upgrade is accepted and closed at once with
 * one of these, because the stock `WebsocketProvider` surfaces a close code and reason (its
 * `closed` event), while an HTTP 401/403 on upgrade only shows as a generic error and a retry
 * loop. Codes 4400–4499 mirror HTTP 4xx: the stock provider stops reconnecting (permanent);
 * 4500–4599 mean "try again" and it reconnects.
 */
export const DOC_CLOSE = {
  /** A frame could not be decoded, or an update failed to apply (it was not stored). */
  MALFORMED: { code: 4400, reason: 'malformed message' },
  /** No token, or the token is invalid or expired. */
  UNAUTHORIZED: { code: 4401, reason: 'unauthorized' },
  /** The token has no `read` grant for this document. */
  FORBIDDEN: { code: 4403, reason: 'forbidden' },
  /** The document name is not valid. */
  NOT_FOUND: { code: 4404, reason: 'no such document' },
  /** The document was deleted. */
  GONE: { code: 4410, reason: 'document deleted' },
  /** One message exceeded MOIM_DOC_MAX_UPDATE_BYTES, or the document would exceed MOIM_DOC_MAX_BYTES. */
  TOO_LARGE: { code: 4413, reason: 'too large' },
  /** The person already has MOIM_DOC_MAX_OPEN_PER_PERSON documents open. */
  TOO_MANY_DOCUMENTS: { code: 4429, reason: 'too many documents open' },
  /** The person already has MOIM_DOC_MAX_CONNECTIONS_PER_PERSON `/yjs` connections open. */
  TOO_MANY_CONNECTIONS: { code: 4429, reason: 'too many connections' },
  /** Something failed inside the server while taking the connection over; the provider retries. */
  INTERNAL: { code: 1011, reason: 'internal error' },
  /** The server reloads the document (a failed apply or a storage error); reconnect and resync. */
  RELOAD: { code: 4500, reason: 'document reloaded' },
  /** The server is shutting down; reconnect (to another node). */
  GOING_AWAY: { code: 1001, reason: 'server shutting down' },
} as const;
export type DocCloseReason = keyof typeof DOC_CLOSE;

/** The linked notes document of a video room. */
export const roomNotesDocName = (roomId: string): string => `room-${roomId}-notes`;

// Presence (presence.ts)
export const PRESENCE_STATES = ['online', 'away', 'busy', 'in-meeting', 'offline', 'in-call'] as const;
export type PresenceState = (typeof PRESENCE_STATES)[number];

// Calls that ring (calls.ts)
/**
 * A call's state. `ringing` until a callee accepts (`accepted`), every callee declines
 * (`declined`), the caller cancels (`cancelled`), the ring timer runs out (`missed`), every
 * callee is in another call or do-not-disturb (`busy`), or the room could not be made (`failed`).
 * An accepted call is `ended` when fewer than two people are left in it.
 */
export const CALL_STATES = [
  'ringing',
  'accepted',
  'declined',
  'cancelled',
  'missed',
  'busy',
  'failed',
  'ended',
] as const;
export type CallState = (typeof CALL_STATES)[number];
/** One callee's part in a call (the caller is `joined` from the start). */
export const CALL_PARTY_STATES = ['ringing', 'joined', 'declined', 'missed', 'busy', 'left', 'cancelled'] as const;
export type CallPartyState = (typeof CALL_PARTY_STATES)[number];
/** Video room ids of calls start with this (presence tells `in-call` from `in-meeting` by it). */
export const CALL_ROOM_PREFIX = 'call-';
/**
 * The `room:removed` reason a call's room gives a person who left the call while it goes on (hung
 * up, dropped): their client ends the meeting quietly rather than as a moderator's removal.
 */
export const CALL_LEFT_REASON = 'you left the call';

// Recordings (recording.ts)
/**
 * How long answering `room:stopRecording` may take: each track's ffmpeg finishes its file (it is
 * killed after RECORDING_STOP_MS / 2 if it does not), then the stop waits up to
 * RECORDING_KEEP_WAIT_MS for the files to be stored. Clients wait this long for the answer, and a
 * cluster relays the request to the room's home node with this bound (other relayed requests have 5 s).
 */
export const RECORDING_STOP_MS = 30_000;

/**
 * How long a stop waits for the files to be stored once the recorders ended: the answer is then
 * `stopped` (or `failed`). Storing that takes longer (hours of tracks copied into a cluster's
 * PostgreSQL) answers `saving`, and `room:recordingChanged` tells the room the end when it comes.
 */
export const RECORDING_KEEP_WAIT_MS = RECORDING_STOP_MS / 4;
