import type { Migration } from '../SqliteDb.ts';

/** Chat and presence tables (id range 0100). */
export const chatMigrations: Migration[] = [
  {
    id: '0100_chat',
    sql: `CREATE TABLE chat_channels (
      id TEXT PRIMARY KEY,
      org TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('public', 'private', 'dm', 'site')),
      name TEXT NOT NULL,
      topic TEXT,
      site TEXT,
      created_by TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      downloads_allowed INTEGER NOT NULL DEFAULT 1,
      -- the per-channel sequence counter: bumped in the same transaction as each insert
      last_seq INTEGER NOT NULL DEFAULT 0,
      member_count INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX chat_channels_org ON chat_channels (org, kind, name);
    CREATE TABLE chat_members (
      channel_id TEXT NOT NULL REFERENCES chat_channels (id),
      sub TEXT NOT NULL,
      role TEXT NOT NULL CHECK (role IN ('owner', 'member')),
      joined_at INTEGER NOT NULL,
      last_read INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (channel_id, sub)
    ) WITHOUT ROWID;
    CREATE INDEX chat_members_sub ON chat_members (sub, channel_id);
    CREATE TABLE chat_messages (
      id INTEGER PRIMARY KEY,
      channel_id TEXT NOT NULL,
      seq INTEGER NOT NULL,
      client_id TEXT NOT NULL,
      sender TEXT NOT NULL,
      text TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      edited_at INTEGER,
      deleted_at INTEGER,
      thread_root INTEGER,
      reply_count INTEGER NOT NULL DEFAULT 0,
      mentions TEXT,
      attachments TEXT
    );
    CREATE UNIQUE INDEX chat_messages_seq ON chat_messages (channel_id, seq);
    CREATE UNIQUE INDEX chat_messages_client ON chat_messages (channel_id, sender, client_id);
    CREATE INDEX chat_messages_thread ON chat_messages (channel_id, thread_root, seq) WHERE thread_root IS NOT NULL;
    CREATE TABLE chat_reactions (
      channel_id TEXT NOT NULL,
      seq INTEGER NOT NULL,
      emoji TEXT NOT NULL,
      sub TEXT NOT NULL,
      at INTEGER NOT NULL,
      PRIMARY KEY (channel_id, seq, emoji, sub)
    ) WITHOUT ROWID;
    CREATE TABLE chat_attachments (
      id TEXT PRIMARY KEY,
      channel_id TEXT NOT NULL,
      uploader TEXT NOT NULL,
      name TEXT NOT NULL,
      type TEXT NOT NULL,
      size INTEGER NOT NULL,
      sha256 TEXT NOT NULL,
      blob_key TEXT NOT NULL,
      created_at INTEGER NOT NULL
    );
    CREATE INDEX chat_attachments_channel ON chat_attachments (channel_id);`,
  },
  {
    id: '0101_presence',
    sql: `CREATE TABLE presence_people (
      sub TEXT PRIMARY KEY,
      org TEXT NOT NULL,
      name TEXT NOT NULL,
      site TEXT NOT NULL,
      teams TEXT NOT NULL DEFAULT '[]',
      status TEXT,
      busy INTEGER NOT NULL DEFAULT 0,
      last_seen INTEGER NOT NULL
    );`,
  },
  {
    // the per-person attachment quota sums a person's attachments (covering index: no table reads)
    id: '0102_attachment_quota',
    sql: 'CREATE INDEX chat_attachments_uploader ON chat_attachments (uploader, size);',
  },
];
