import type { CallHistoryEntry, CallMeeting } from '@moim/protocol';

/**
 * An entry as stored: an invitation's meeting by id and name (whether it is still open is read
 * when the history is read, CallHistory.ts).
 */
export type CallHistoryRecord = Omit<CallHistoryEntry, 'meeting'> & { meeting: CallMeeting | null };

export interface CallHistoryRecordPage {
  entries: CallHistoryRecord[];
  unread: number;
}

/**
 * Call history: one row per person and call (a call's parties each get theirs when it finishes),
 * newest first, at most `keep` per person (the oldest go). Missed calls are unread until read.
 */
export interface CallHistoryStore {
  /** Store an entry (a second one for the same person and call is ignored), then keep the newest `keep`. */
  add(org: string, sub: string, entry: CallHistoryRecord, keep: number): Promise<void>;
  list(org: string, sub: string, limit: number): Promise<CallHistoryRecordPage>;
  /** Mark every entry of the person read; answers how many were unread. */
  markRead(org: string, sub: string): Promise<number>;
}

/** A stored row of either backend. */
export interface CallHistoryRow {
  call_id: string;
  direction: string;
  outcome: string;
  with_subs: string;
  grp: number | boolean;
  started_at: number | string;
  ended_at: number | string;
  unread: number | boolean;
  meeting_room: string | null;
  meeting_name: string | null;
}

export const CALL_HISTORY_COLUMNS =
  'call_id, direction, outcome, with_subs, grp, started_at, ended_at, unread, meeting_room, meeting_name';

/**
 * An entry's values in CALL_HISTORY_COLUMNS order; `flag` writes a boolean as the backend stores it
 * (PostgreSQL a boolean, SQLite 0/1).
 */
export function callHistoryValues<F>(
  e: CallHistoryRecord,
  flag: (b: boolean) => F,
): [string, string, string, string, F, number, number, F, string | null, string | null] {
  return [
    e.callId,
    e.direction,
    e.outcome,
    JSON.stringify(e.with),
    flag(e.group),
    e.startedAt,
    e.endedAt,
    flag(e.unread),
    e.meeting?.roomId ?? null,
    e.meeting?.name ?? null,
  ];
}

export function toCallHistoryRecord(r: CallHistoryRow): CallHistoryRecord {
  return {
    callId: r.call_id,
    direction: r.direction as CallHistoryEntry['direction'],
    outcome: r.outcome as CallHistoryEntry['outcome'],
    with: JSON.parse(r.with_subs) as string[],
    group: Boolean(r.grp),
    startedAt: Number(r.started_at),
    endedAt: Number(r.ended_at),
    unread: Boolean(r.unread),
    meeting: r.meeting_room === null ? null : { roomId: r.meeting_room, name: r.meeting_name },
  };
}
