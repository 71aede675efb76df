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
 * It is the ceiling of moim's stack (socket.io on Node). With `BASELINE_DURABLE_DIR=<folder>` it is
 * the floor of any server that keeps what it is sent ("socket.io durable"): each message is first
 * committed to SQLite in that folder (WAL, synchronous=FULL, like moim) by a writer thread, in group
 * commits of what arrived meanwhile started at most every `BASELINE_COMMIT_INTERVAL_MS` (default 3,
 * moim's `MOIM_CHAT_COMMIT_INTERVAL_MS`), then broadcast and acknowledged — one INSERT per message
 * into a table keyed by (channel, seq) with the client id unique per channel and sender, and
 * nothing else of moim's (no validation, authentication, rate limits, read markers or metrics).
 * Prints `baseline ready at http://127.0.0.1:<port> stats http://127.0.0.1:<port>`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Server } from 'socket.io';
import { statsServer } from './stats.ts';

interface Message {
  channelId: string;
  seq: number;
  clientMsgId: string;
  sender: string;
  text: string;
  createdAt: number;
}

/** The writer thread: one transaction per batch, answered after COMMIT (the WAL fsync). */
const WRITER = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(workerData.file);
db.exec('PRAGMA journal_mode = WAL');
db.exec('PRAGMA synchronous = FULL');
db.exec(\`CREATE TABLE IF NOT EXISTS messages (channel_id TEXT NOT NULL, seq INTEGER NOT NULL, client_id TEXT NOT NULL,
  sender TEXT NOT NULL, text TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (channel_id, seq));
  CREATE UNIQUE INDEX IF NOT EXISTS messages_client ON messages (channel_id, sender, client_id);\`);
const insert = db.prepare('INSERT INTO messages (channel_id, seq, client_id, sender, text, created_at) VALUES (?, ?, ?, ?, ?, ?)');
parentPort.on('message', ({ id, batch }) => {
  db.exec('BEGIN IMMEDIATE');
  for (const m of batch) insert.run(m.channelId, m.seq, m.clientMsgId, m.sender, m.text, m.createdAt);
  db.exec('COMMIT');
  parentPort.postMessage(id);
});
`;

/** Durable mode: group commits on the writer thread; `commit(m, done)` calls `done` once `m` is committed. */
function durableWriter(dir: string, intervalMs: number): (m: Message, done: () => void) => void {
  const worker = new Worker(WRITER, { eval: true, workerData: { file: path.join(dir, 'chat.sqlite') } });
  worker.on('error', (err) => {
    console.error('baseline writer failed', err);
    process.exit(1);
  });
  let queue: Array<{ m: Message; done: () => void }> = [];
  let inFlight: Array<{ m: Message; done: () => void }> | undefined;
  let scheduled = false;
  let last = 0;
  let next = 0;
  const start = (): void => {
    scheduled = false;
    if (inFlight || queue.length === 0) return;
    const wait = last + intervalMs - performance.now();
    if (wait >= 1) {
      scheduled = true;
      setTimeout(start, wait);
      return;
    }
    last = performance.now();
    inFlight = queue;
    queue = [];
    worker.postMessage({ id: ++next, batch: inFlight.map((q) => q.m) });
  };
  worker.on('message', () => {
    const done = inFlight ?? [];
    inFlight = undefined;
    for (const q of done) q.done();
    start();
  });
  return (m, done) => {
    queue.push({ m, done });
    if (!scheduled && !inFlight) {
      scheduled = true;
      setImmediate(start);
    }
  };
}

const http = createServer();
const io = new Server(http, { transports: ['websocket'], serveClient: false });
const durableDir = process.env.BASELINE_DURABLE_DIR;
const commit = durableDir ? durableWriter(durableDir, Number(process.env.BASELINE_COMMIT_INTERVAL_MS ?? 3)) : undefined;
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
      if (commit) commit(message, deliver);
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
