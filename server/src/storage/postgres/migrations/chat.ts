import type { PgMigration } from '../PgDb.ts';

/**
 * Chat tables (id range 0100), the same tables and columns as SQLite's (sqlite/migrations/chat.ts;
 * presence lives with the core tables here). Times (ms) and seqs are BIGINT; ids, people, names
 * and emoji compare byte-wise (`COLLATE "C"`, as SQLite does), so `sub > $cursor` pages and
 * `ORDER BY` give the same order on both backends.
 */
export const chatMigrations: PgMigration[] = [
  {
    id: '0100_chat',
    sql: `CREATE TABLE chat_channels (
      id TEXT COLLATE "C" PRIMARY KEY,
      org TEXT COLLATE "C" NOT NULL,
      kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('public', 'private', 'dm', 'site')),
      name TEXT COLLATE "C" NOT NULL,
      topic TEXT,
      site TEXT,
      created_by TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      downloads_allowed BOOLEAN NOT NULL DEFAULT TRUE,
      -- the per-channel sequence counter: bumped in the same transaction as each insert (its row
      -- lock orders the appends of every node)
      last_seq BIGINT NOT NULL DEFAULT 0,
      member_count INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX chat_channels_org ON chat_channels (org, kind, name);
    CREATE TABLE chat_members (
      channel_id TEXT COLLATE "C" NOT NULL REFERENCES chat_channels (id),
      sub TEXT COLLATE "C" NOT NULL,
      role TEXT NOT NULL CHECK (role IN ('owner', 'member')),
      joined_at BIGINT NOT NULL,
      last_read BIGINT NOT NULL DEFAULT 0,
      PRIMARY KEY (channel_id, sub)
    );
    CREATE INDEX chat_members_sub ON chat_members (sub, channel_id);
    CREATE TABLE chat_messages (
      id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      channel_id TEXT COLLATE "C" NOT NULL,
      seq BIGINT NOT NULL,
      client_id TEXT COLLATE "C" NOT NULL,
      sender TEXT COLLATE "C" NOT NULL,
      text TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      edited_at BIGINT,
      deleted_at BIGINT,
      thread_root BIGINT,
      reply_count INTEGER NOT NULL DEFAULT 0,
      mentions TEXT,
      attachments TEXT
    );
    CREATE UNIQUE INDEX chat_messages_seq ON chat_messages (channel_id, seq);
    CREATE UNIQUE INDEX chat_messages_client ON chat_messages (channel_id, sender, client_id);
    CREATE INDEX chat_messages_thread ON chat_messages (channel_id, thread_root, seq) WHERE thread_root IS NOT NULL;
    CREATE TABLE chat_reactions (
      channel_id TEXT COLLATE "C" NOT NULL,
      seq BIGINT NOT NULL,
      emoji TEXT COLLATE "C" NOT NULL,
      sub TEXT COLLATE "C" NOT NULL,
      at BIGINT NOT NULL,
      PRIMARY KEY (channel_id, seq, emoji, sub)
    );
    CREATE TABLE chat_attachments (
      id TEXT COLLATE "C" PRIMARY KEY,
      channel_id TEXT COLLATE "C" NOT NULL,
      uploader TEXT COLLATE "C" NOT NULL,
      name TEXT NOT NULL,
      type TEXT NOT NULL,
      size BIGINT NOT NULL,
      sha256 TEXT NOT NULL,
      blob_key TEXT NOT NULL,
      created_at BIGINT NOT NULL
    );
    CREATE INDEX chat_attachments_channel ON chat_attachments (channel_id);
    -- the per-person attachment quota sums a person's attachments (covering index: no table reads)
    CREATE INDEX chat_attachments_uploader ON chat_attachments (uploader, size);`,
  },
];
