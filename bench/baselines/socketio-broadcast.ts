/**
 * Baseline for bench:chat: a bare socket.io 4 server that only broadcasts — no validation, no
 * authentication, no storage, no rate limits — answering the same three requests the chat
 * benchmark sends to moim, with the same message shape, so the clients cannot tell them apart:
 *
 * - `chat:channel:create` → `{ data: { id } }` (a counter; nothing stored);
 * - `chat:subscribe {channelId}` → joins the socket.io room, `{ data: { lastSeq } }`;
 * - `chat:send {channelId, clientMsgId, text}` → `io.to(channelId).emit('chat:message', msg)` and
 *   `{ data: { message: msg, duplicate: false } }`.
 *
 * It is the ceiling of moim's stack (socket.io on Node). With `BASELINE_DURABLE_DIR=<folder>`
 * ("socket.io durable", durableWriter.ts) each message is first committed to SQLite, in group commits
 * at most every `BASELINE_COMMIT_INTERVAL_MS` (default 3, as moim's `MOIM_CHAT_COMMIT_INTERVAL_MS`),
 * then broadcast and acknowledged: one INSERT per message into a table keyed by (channel, seq) with
 * the client id unique per channel and sender, and nothing else of moim's (no validation,
 * authentication, rate limits, read markers or metrics).
 * Prints `baseline ready at http://127.0.0.1:<port> stats http://127.0.0.1:<port>`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { durableWriter } from './durableWriter.ts';
import { statsServer } from './stats.ts';

const http = createServer();
const io = new Server(http, { transports: ['websocket'], serveClient: false });
const keep = durableWriter(
  {
    schema: `CREATE TABLE messages (channel_id TEXT NOT NULL, seq INTEGER NOT NULL, client_id TEXT NOT NULL,
      sender TEXT NOT NULL, text TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (channel_id, seq));
      CREATE UNIQUE INDEX messages_client ON messages (channel_id, sender, client_id);`,
    insert: 'INSERT INTO messages (channel_id, seq, client_id, sender, text, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  },
  Number(process.env.BASELINE_COMMIT_INTERVAL_MS ?? 3),
);
let channels = 0;
const seqs = new Map<string, number>();
let sent = 0;

io.on('connection', (socket) => {
  socket.on('chat:channel:create', (_data: unknown, ack?: (r: unknown) => void) => {
    ack?.({ data: { id: `c${++channels}` } });
  });
  socket.on('chat:subscribe', (data: { channelId: string }, ack?: (r: unknown) => void) => {
    void socket.join(data.channelId);
    ack?.({ data: { lastSeq: seqs.get(data.channelId) ?? 0 } });
  });
  socket.on(
    'chat:send',
    (data: { channelId: string; clientMsgId: string; text: string }, ack?: (r: unknown) => void) => {
      const seq = (seqs.get(data.channelId) ?? 0) + 1;
      seqs.set(data.channelId, seq);
      sent++;
      const message = {
        channelId: data.channelId,
        seq,
        clientMsgId: data.clientMsgId,
        sender: socket.id,
        text: data.text,
        createdAt: Date.now(),
        editedAt: null,
        deletedAt: null,
        threadRoot: null,
        replyCount: 0,
        mentions: [],
        attachments: [],
        reactions: [],
      };
      const deliver = () => {
        io.to(data.channelId).emit('chat:message', message);
        ack?.({ data: { message, duplicate: false } });
      };
      if (keep)
        keep([message.channelId, seq, message.clientMsgId, message.sender, message.text, message.createdAt], deliver);
      else deliver();
    },
  );
});

http.listen(0, '127.0.0.1', async () => {
  const stats = await statsServer(() => ({ connections: io.engine.clientsCount, sent }));
  console.log(`baseline ready at http://127.0.0.1:${(http.address() as AddressInfo).port} stats ${stats}`);
});
const stop = () => {
  io.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
