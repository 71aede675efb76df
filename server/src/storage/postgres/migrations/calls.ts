import type { PgMigration } from '../PgDb.ts';

/** Call history on PostgreSQL (id range 1600): the same table as SQLite's, BIGINT ms. */
export const callMigrations: PgMigration[] = [
  {
    id: '1600_call_history',
    sql: `CREATE TABLE call_history (
      org TEXT NOT NULL,
      sub TEXT NOT NULL,
      call_id TEXT NOT NULL,
      direction TEXT NOT NULL CHECK (direction IN ('outgoing', 'incoming')),
      outcome TEXT NOT NULL,
      with_subs TEXT NOT NULL,
      grp BOOLEAN NOT NULL,
      started_at BIGINT NOT NULL,
      ended_at BIGINT NOT NULL,
      unread BOOLEAN NOT NULL,
      CONSTRAINT call_history_pkey PRIMARY KEY (org, sub, call_id)
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
