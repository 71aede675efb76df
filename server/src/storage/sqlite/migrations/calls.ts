import type { Migration } from '../SqliteDb.ts';

/** Call history (id range 1600). */
export const callMigrations: Migration[] = [
  {
    id: '1600_call_history',
    sql: `CREATE TABLE call_history (
      org TEXT NOT NULL,
      sub TEXT NOT NULL,
      call_id TEXT NOT NULL,
      direction TEXT NOT NULL CHECK (direction IN ('outgoing', 'incoming')),
      outcome TEXT NOT NULL,
      with_subs TEXT NOT NULL,
      grp INTEGER NOT NULL,
      started_at INTEGER NOT NULL,
      ended_at INTEGER NOT NULL,
      unread INTEGER NOT NULL,
      PRIMARY KEY (org, sub, call_id)
    );
    CREATE INDEX call_history_person ON call_history (org, sub, ended_at DESC);`,
  },
  {
    // meeting invitations: the meeting they rang into (null for a call)
    id: '1601_call_history_meeting',
    sql: `ALTER TABLE call_history ADD COLUMN meeting_room TEXT;
    ALTER TABLE call_history ADD COLUMN meeting_name TEXT;`,
  },
];
