import { z } from 'zod';
import type { CallPartyState, CallState, Tier } from './constants.ts';
import { roomIdSchema } from './media.ts';

/**
 * Calls that ring (인터넷전화): call one person or several; every device of each callee rings.
 *
 * The server owns each call's state machine (`CALL_STATES`) and its one ring timer
 * (`MOIM_CALL_RING_TIMEOUT_MS`). Every change reaches every device of the caller and of each
 * callee as `call:update` with the whole call. Rules:
 * - accepting on one device stops the person's other devices (`me.answeredOn` names the
 *   device that answered: "answered elsewhere"); a late accept or decline is `CALL_NOT_RINGING`;
 * - declining on one device declines for the person everywhere;
 * - `call:dismiss` silences only this device (its id in `me.dismissedOn`, kept
 *   across its reconnects: devices are told apart by the handshake's `deviceId`);
 * - a callee already in a call, or in do-not-disturb, is `busy` at once;
 * - two people calling each other while the other's call rings end in ONE call: the second
 *   `call:start` answers the first call (it is accepted) instead of ringing back;
 * - accepting makes the call's video room (`personal` tier for 1:1, `standard` for a group),
 *   whose id starts with `call-`; the people in the call join it with `room:join`;
 * - a callee who did not answer gets a "missed call" message in the DM with the caller, and an
 *   entry in their call history (`GET /calls/history`).
 *
 * Meeting invitations (`call:invite`) ring the same way, into a meeting that is running: the
 * inviter must be in the meeting's room now (a live participant, on any node) and the room must be
 * one of the inviter's organisation (another org's or an unknown one: NOT_FOUND; a closed one:
 * ROOM_CLOSED; the inviter not in it: NOT_IN_ROOM; a call's room: INVALID_PAYLOAD, use
 * `call:add`). The invitation is a call whose `meeting` names the room; every rule above holds
 * (devices, answered elsewhere, decline everywhere, dismiss, busy, ring timeout, history, and
 * the same bounds: starts per minute, callees per call — at most the room tier's peers — and
 * ringing invitations per inviter at once). It differs in three ways:
 * - accepting gives the invitee join, publish and subscribe in the meeting's room (added to
 *   what their token grants there; kept while the meeting lasts, up to 12 hours) and joins them
 *   to nothing by itself: the client joins `meeting.roomId` with `room:join`;
 * - the invitation ends (`ended`) once nobody rings any more; `roomId` stays null: the meeting is
 *   not the invitation's, so ending, cancelling or hanging up an invitation never touches it;
 * - a missed invitation leaves "X invited you to <meeting> — missed" with the meeting's link
 *   (`#/meeting/<roomId>`, after MOIM_PUBLIC_URL when set) in the DM with the inviter;
 * - it lasts no longer than the meeting for its inviter: a ringing invitation ends (`cancelled`)
 *   when its inviter leaves the meeting on every device (reason `inviter-left`) or the meeting's
 *   room closes (reason `meeting-closed`), on any node; accepting one whose meeting closed
 *   meanwhile is ROOM_CLOSED (no grant, the invitation ends `meeting-closed`).
 * History entries of invitations name the meeting (`meeting`, with whether it is still open).
 * Inviting takes nobody into a call: the inviter and the invitees are not "in a call" for it.
 */

const callId = z.string().uuid();
const personId = z.string().min(1).max(128);

/** Client→server requests of this area. Callee counts are also bounded by MOIM_CALL_MAX_CALLEES. */
export const callRequests = {
  /** Ring these people (1: a 1:1 call; more: a group call). */
  'call:start': z
    .object({
      callees: z.array(personId).min(1).max(64),
      /** Whether the caller starts with video (a hint for the callees' banner). */
      video: z.boolean().default(true),
    })
    .strict(),
  /**
   * Ring these people into the running meeting `roomId`, which I am in now (a meeting
   * invitation: the call's `meeting` names the room). Answer: the invitation.
   */
  'call:invite': z
    .object({
      roomId: roomIdSchema,
      callees: z.array(personId).min(1).max(64),
    })
    .strict(),
  /** Answer on this device: the call's room is made (or joined) and the person's other devices stop ringing. */
  'call:accept': z.object({ callId }).strict(),
  /** Decline for the person on every device. */
  'call:decline': z.object({ callId }).strict(),
  /** Silence this device only (the others keep ringing); remembered across this device's reconnects. */
  'call:dismiss': z.object({ callId }).strict(),
  /** The caller gives up a ringing call (every callee stops ringing). */
  'call:cancel': z.object({ callId }).strict(),
  /** Leave an accepted call (the call ends when fewer than two people are left in it). */
  'call:hangup': z.object({ callId }).strict(),
  /** Ring more people into a running call (anyone in the call may). */
  'call:add': z.object({ callId, callees: z.array(personId).min(1).max(64) }).strict(),
  /** My calls that are ringing or running now, as this device sees them. */
  'call:list': z.object({}).strict(),
} as const satisfies Record<string, z.ZodType>;

export interface CallParty {
  sub: string;
  name: string | null;
  state: CallPartyState;
  /** Milliseconds since the epoch of the last change of this party's state. */
  at: number;
}

export interface CallMe {
  sub: string;
  state: CallPartyState | 'caller';
  dismissedOn: string[];
  answeredOn: string | null;
}

/** The meeting a meeting invitation (`call:invite`) rings people into. */
export interface CallMeeting {
  roomId: string;
  /** The meeting's name (its room record), if it has one. */
  name: string | null;
}

/** A call as one person sees it. */
export interface CallInfo {
  id: string;
  state: CallState;
  /**
   * Why the call is in its state when that is not obvious (`answered-elsewhere`, `timeout`,
   * `room-failed`…; a meeting invitation the server cancelled: `inviter-left`, `meeting-closed`).
   */
  reason: string | null;
  caller: CallParty;
  callees: CallParty[];
  group: boolean;
  video: boolean;
  tier: Tier;
  /** The call's video room once accepted (join it with `room:join`); null before, and always for a meeting invitation. */
  roomId: string | null;
  /**
   * A meeting invitation (`call:invite`): the running meeting it rings into — join its `roomId`
   * with `room:join` after accepting. Null for a call.
   */
  meeting: CallMeeting | null;
  startedAt: number;
  /** When the ring timer runs out (ms since the epoch) while ringing. */
  ringsUntil: number;
  acceptedAt: number | null;
  endedAt: number | null;
  /** Bumped on every change: a client keeps the highest version it saw of each call. */
  version: number;
  /**
   * The receiving person's own part: their state (`caller` for the caller), the devices (handshake
   * `deviceId`s) they dismissed the ring on, and the device that answered. A device rings while
   * `me.state === 'ringing'` and its id is not in `me.dismissedOn`.
   */
  me: CallMe;
}

/** One line of a person's call history. */
export interface CallHistoryEntry {
  callId: string;
  /** `outgoing` (I called) or `incoming`. */
  direction: 'outgoing' | 'incoming';
  /** My outcome: `answered`, `missed`, `declined`, `busy`, `cancelled`, `failed`. */
  outcome: 'answered' | 'missed' | 'declined' | 'busy' | 'cancelled' | 'failed';
  /** The other people of the call. */
  with: string[];
  group: boolean;
  startedAt: number;
  endedAt: number;
  /** Missed calls are unread until the person reads their history (`POST /calls/history/read`). */
  unread: boolean;
  /**
   * A meeting invitation: the meeting it rang into, and whether that meeting is still open now
   * (its room not closed: offer "Join", `room:join` with `meeting.roomId`). Null for a call.
   */
  meeting: CallHistoryMeeting | null;
}

/** The meeting of a history entry of an invitation. */
export interface CallHistoryMeeting extends CallMeeting {
  /** Read when the history is read: the meeting's room is not closed (joining may still need an invitation or grant). */
  open: boolean;
}

export interface CallHistoryPage {
  entries: CallHistoryEntry[];
  /** Missed calls not yet seen. */
  unread: number;
}

export interface CallResponses {
  'call:start': CallInfo;
  'call:invite': CallInfo;
  'call:accept': CallInfo;
  'call:decline': CallInfo;
  'call:dismiss': CallInfo;
  'call:cancel': CallInfo;
  'call:hangup': CallInfo;
  'call:add': CallInfo;
  'call:list': { calls: CallInfo[] };
}

export interface CallServerEvents {
  /** A call I take part in changed (or started ringing for me, or a device of mine connected while it rings). */
  'call:update': (call: CallInfo) => void;
}

/** `GET /calls/history?limit=` */
export const callHistoryQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) });

/** `POST /calls/history/read`: no body, or an empty JSON object. */
export const callHistoryReadSchema = z.strictObject({});
