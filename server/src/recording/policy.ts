/**
 * The recording rules, apart from any I/O so they are tested alone: who may start or stop a
 * recording of a room, who may download its files, and when they are deleted.
 */
import { MoimError, type RecordingPolicy } from '@moim/protocol';
import type { Principal } from '../auth/Principal.ts';

const DAY_MS = 86_400_000;

/** Start: the `record` grant for the room, in a tier whose policy records (FORBIDDEN / POLICY_FORBIDS). */
export function assertMayRecord(caller: Principal, roomId: string, policy: RecordingPolicy): void {
  caller.requireRoom(roomId, 'join');
  caller.requireRoom(roomId, 'record');
  if (!policy.record) throw new MoimError('POLICY_FORBIDS', 'rooms of this tier are not recorded');
}

/** Stop: `record` or `moderate` for the room. */
export function assertMayStop(caller: Principal, roomId: string): void {
  caller.requireRoom(roomId, 'join');
  if (!caller.hasRoom(roomId, 'record') && !caller.hasRoom(roomId, 'moderate'))
    throw new MoimError('FORBIDDEN', `no record or moderate grant for room ${roomId}`);
}

/**
 * Download: never where `downloadsAllowed` is false (POLICY_FORBIDS, whoever asks). `recorders`:
 * people granted `record` or `moderate` in the room and its owner; `participants`: also anyone
 * granted `join`. Anyone else: FORBIDDEN.
 */
export function assertMayDownload(
  caller: Principal,
  room: { roomId: string; ownerSub: string },
  policy: RecordingPolicy,
): void {
  if (!policy.downloadsAllowed) throw new MoimError('POLICY_FORBIDS', 'recordings of this tier are not downloaded');
  const { roomId } = room;
  const recorder =
    caller.hasRoom(roomId, 'record') || caller.hasRoom(roomId, 'moderate') || caller.sub === room.ownerSub;
  if (recorder) return;
  if (policy.downloadBy === 'participants' && caller.hasRoom(roomId, 'join')) return;
  throw new MoimError('FORBIDDEN', 'you may not download recordings of this room');
}

/** When an ended recording's files are deleted. */
export function expiresAt(endedAt: number, policy: RecordingPolicy): number {
  return endedAt + policy.retentionDays * DAY_MS;
}
