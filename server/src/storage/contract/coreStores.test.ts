/**
 * The contract of the small stores — rooms, presence, audit, blobs — run unchanged against every
 * backend (SQLite, PostgreSQL), plus what only a shared database has to hold: two nodes creating
 * one room at once, an attachment stored on one node read on another, and the database itself
 * refusing to rewrite the audit log.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { MoimError } from '@moim/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stores } from '../index.ts';
import { coreMigrations } from '../postgres/migrations/core.ts';
import { securityMigrations } from '../postgres/migrations/security.ts';
import { PgAuditStore } from '../postgres/PgAuditStore.ts';
import { CHUNK_BYTES, PgBlobStore } from '../postgres/PgBlobStore.ts';
import { PgDb } from '../postgres/PgDb.ts';
import { PgRoomStore } from '../postgres/PgRoomStore.ts';
import type { RoomRecord } from '../RoomStore.ts';
import { sqliteMigrations } from '../sqlite/migrations/index.ts';
import { SqliteAuditStore } from '../sqlite/SqliteAuditStore.ts';
import { SqliteDb } from '../sqlite/SqliteDb.ts';
import { StoreUnavailableError } from '../storageErrors.ts';
import { BACKENDS, dropSchema, TEST_DATABASE_URL, uniqueSchema, useStores } from './backends.ts';

const room = (id: string, org = 'acme'): Omit<RoomRecord, 'closedAt'> => ({
  id,
  org,
  tier: 'standard',
  name: `Room ${id}`,
  ownerSub: 'ann',
  docName: `room-${id}`,
  createdAt: 1_700_000_000_000,
});

async function* pieces(...parts: Uint8Array[]): AsyncIterable<Uint8Array> {
  for (const p of parts) yield p;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of stream) out.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(out);
}

/** `n` bytes of a pattern that shows a misplaced chunk. */
const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed + (i >> 10)) & 0xff);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe.each(BACKENDS)('core stores contract on $name', (backend) => {
  let stores: Stores;
  useStores(backend, (s) => {
    stores = s;
  });

  describe('rooms', () => {
    it('creates a room once (CONFLICT after), and only its organisation finds it', async () => {
      const created = await stores.rooms.create(room('r1'));
      expect(created).toEqual({ ...room('r1'), closedAt: null });
      expect(await stores.rooms.get('acme', 'r1')).toEqual(created);
      expect(await stores.rooms.get('evil', 'r1')).toBeUndefined();
      expect(await stores.rooms.get('acme', 'nope')).toBeUndefined();
      const dup = stores.rooms.create({ ...room('r1', 'evil'), tier: 'personal' });
      await expect(dup).rejects.toBeInstanceOf(MoimError);
      await expect(dup).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(await stores.rooms.get('acme', 'r1')).toEqual(created);
      expect(await stores.rooms.get('evil', 'r1')).toBeUndefined();
      await stores.rooms.create({ ...room('r2'), name: null, tier: 'immersive' });
      expect(await stores.rooms.get('acme', 'r2')).toMatchObject({ name: null, tier: 'immersive' });
    });

    it('closes a room once', async () => {
      await stores.rooms.create(room('r1'));
      expect(await stores.rooms.close('r1', 1_700_000_000_500)).toBe(true);
      expect(await stores.rooms.close('r1', 1_700_000_000_900)).toBe(false);
      expect((await stores.rooms.get('acme', 'r1'))?.closedAt).toBe(1_700_000_000_500);
      expect(await stores.rooms.close('nope', 1)).toBe(false);
    });

    it('remembers who was banned from which room', async () => {
      await stores.rooms.create(room('r1'));
      await stores.rooms.create(room('r2'));
      expect(await stores.rooms.isBanned('r1', 'bob')).toBe(false);
      await stores.rooms.ban('r1', 'bob', 'ann', 1_700_000_000_100);
      await stores.rooms.ban('r1', 'bob', 'ann', 1_700_000_000_200); // again: no error
      expect(await stores.rooms.isBanned('r1', 'bob')).toBe(true);
      expect(await stores.rooms.isBanned('r1', 'eve')).toBe(false);
      expect(await stores.rooms.isBanned('r2', 'bob')).toBe(false);
    });
  });

  describe('presence', () => {
    const ann = {
      sub: 'ann',
      org: 'acme',
      name: 'Ann',
      site: 'paris',
      teams: ['ops', 'dev'],
      status: 'in a meeting',
      busy: true,
      lastSeen: 1_700_000_000_123,
    };

    it('saves and replaces a record, and gets those of one organisation', async () => {
      await stores.presence.save(ann);
      await stores.presence.save({ ...ann, sub: 'bob', name: 'Bob', teams: [], status: null, busy: false });
      await stores.presence.save({ ...ann, sub: 'eve', org: 'evil', name: 'Eve' });
      const got = await stores.presence.get('acme', ['ann', 'bob', 'eve', 'nobody']);
      expect(got.sort((x, y) => x.sub.localeCompare(y.sub))).toEqual([
        ann,
        { ...ann, sub: 'bob', name: 'Bob', teams: [], status: null, busy: false },
      ]);
      expect(await stores.presence.get('evil', ['ann', 'bob'])).toEqual([]);
      expect(await stores.presence.get('evil', ['eve'])).toHaveLength(1);
      expect(await stores.presence.get('acme', [])).toEqual([]);
      await stores.presence.save({ ...ann, site: 'lyon', busy: false, lastSeen: ann.lastSeen + 1 });
      expect(await stores.presence.get('acme', ['ann'])).toEqual([
        { ...ann, site: 'lyon', busy: false, lastSeen: ann.lastSeen + 1 },
      ]);
      // a person moved to another organisation is found there only
      await stores.presence.save({ ...ann, org: 'evil' });
      expect(await stores.presence.get('acme', ['ann'])).toEqual([]);
      expect(await stores.presence.get('evil', ['ann'])).toEqual([{ ...ann, org: 'evil' }]);
    });
  });

  describe('audit', () => {
    it('appends entries with growing ids and lists them by id, actor and action', async () => {
      const before = Date.now();
      const a = await stores.audit.append({
        actor: 'ann',
        action: 'room.create',
        target: 'r1',
        detail: { tier: 'standard', n: 2 },
      });
      const b = await stores.audit.append({ actor: 'bob', action: 'auth.refused' });
      const c = await stores.audit.append({ actor: 'ann', action: 'doc.delete', target: 'notes' });
      expect(a).toMatchObject({
        actor: 'ann',
        action: 'room.create',
        target: 'r1',
        detail: { tier: 'standard', n: 2 },
      });
      expect(a.at).toBeGreaterThanOrEqual(before);
      expect(b.id).toBeGreaterThan(a.id);
      expect(c.id).toBeGreaterThan(b.id);
      expect(await stores.audit.list({ limit: 10 })).toEqual([a, b, c]);
      expect(await stores.audit.list({ afterId: a.id, limit: 10 })).toEqual([b, c]);
      expect(await stores.audit.list({ limit: 2 })).toEqual([a, b]);
      expect(await stores.audit.list({ actor: 'ann', limit: 10 })).toEqual([a, c]);
      expect(await stores.audit.list({ action: 'auth.refused', limit: 10 })).toEqual([b]);
      expect(await stores.audit.list({ actor: 'ann', action: 'doc.delete', limit: 10 })).toEqual([c]);
      expect(await stores.audit.list({ actor: 'bob', action: 'doc.delete', limit: 10 })).toEqual([]);
      expect(await stores.audit.list({ afterId: c.id, limit: 10 })).toEqual([]);
      const [listedB] = await stores.audit.list({ actor: 'bob', limit: 1 });
      expect(listedB && 'target' in listedB).toBe(false);
      expect(listedB && 'detail' in listedB).toBe(false);
    });
  });

  describe('blobs', () => {
    it('stores content arriving in pieces and gives it back; delete forgets it', async () => {
      const content = bytes(CHUNK_BYTES * 2 + 12_345);
      const parts = [
        content.subarray(0, 1000),
        content.subarray(1000, CHUNK_BYTES + 7),
        content.subarray(CHUNK_BYTES + 7),
      ];
      const stored = await stores.blobs.put(pieces(...parts), {
        maxBytes: content.byteLength,
        expectedBytes: content.byteLength,
      });
      expect(stored).toMatchObject({ size: content.byteLength, sha256: sha(content) });
      const small = await stores.blobs.put(pieces(bytes(10, 7)), { maxBytes: 100 });
      expect(small.key).not.toBe(stored.key);
      const got = await stores.blobs.get(stored.key);
      expect(got?.size).toBe(content.byteLength);
      expect(Buffer.compare(await readAll(got?.stream as Readable), Buffer.from(content))).toBe(0);
      expect(await readAll((await stores.blobs.get(small.key))?.stream as Readable)).toEqual(Buffer.from(bytes(10, 7)));
      await stores.blobs.delete(stored.key);
      expect(await stores.blobs.get(stored.key)).toBeUndefined();
      expect(await stores.blobs.get(small.key)).toBeDefined();
      await stores.blobs.delete(stored.key); // again: nothing to do
    });

    it('stores an empty blob, and answers undefined for unknown or malformed keys', async () => {
      const empty = await stores.blobs.put(pieces(), { maxBytes: 10 });
      expect(empty).toMatchObject({ size: 0, sha256: sha(new Uint8Array()) });
      const got = await stores.blobs.get(empty.key);
      expect(got?.size).toBe(0);
      expect((await readAll(got?.stream as Readable)).byteLength).toBe(0);
      expect(await stores.blobs.get('00/00000000-0000-0000-0000-000000000000')).toBeUndefined();
      expect(await stores.blobs.get('../../etc/passwd')).toBeUndefined();
      await stores.blobs.delete('../../etc/passwd');
    });

    it('stores a finished file: the file store takes the file itself (no copy), PostgreSQL copies it', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'moim-putfile-'));
      try {
        const content = bytes(CHUNK_BYTES + 4321, 3);
        const file = path.join(dir, 't1-1.webm');
        writeFileSync(file, content, { mode: 0o644 });
        const stored = await stores.blobs.putFile(file, { maxBytes: content.byteLength, size: content.byteLength });
        expect(stored).toMatchObject({ size: content.byteLength, sha256: sha(content) });
        const got = await stores.blobs.get(stored.key);
        expect(Buffer.compare(await readAll(got?.stream as Readable), Buffer.from(content))).toBe(0);
        // the file store moved it into its folder (nothing left where it was); PostgreSQL read it
        if (stores.kind === 'sqlite') {
          expect(existsSync(file)).toBe(false);
          // readable by the server alone, as every blob (the file was 0644)
          const blobFile = (got?.stream as unknown as { path: string } | undefined)?.path ?? '';
          expect(statSync(blobFile).mode & 0o777).toBe(0o600);
        } else expect(readFileSync(file)).toEqual(Buffer.from(content));
        // a file on another file system (tmpfs here, where there is one) is copied
        if (existsSync('/dev/shm') && statSync('/dev/shm').dev !== statSync(dir).dev) {
          const shm = mkdtempSync('/dev/shm/moim-putfile-');
          try {
            const elsewhere = path.join(shm, 't2-1.webm');
            writeFileSync(elsewhere, bytes(5000, 9));
            const copied = await stores.blobs.putFile(elsewhere, { maxBytes: 5000, size: 5000 });
            expect(copied).toMatchObject({ size: 5000, sha256: sha(bytes(5000, 9)) });
            const back = await stores.blobs.get(copied.key);
            expect(await readAll(back?.stream as Readable)).toEqual(Buffer.from(bytes(5000, 9)));
          } finally {
            rmSync(shm, { recursive: true, force: true });
          }
        }
        // larger than allowed: refused, the file kept where it is
        const big = path.join(dir, 't1-2.webm');
        writeFileSync(big, bytes(200));
        await expect(stores.blobs.putFile(big, { maxBytes: 100, size: 200 })).rejects.toMatchObject({
          code: 'PAYLOAD_TOO_LARGE',
        });
        expect(existsSync(big)).toBe(true);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('refuses more than maxBytes with PAYLOAD_TOO_LARGE, as soon as it arrives', async () => {
      let pulled = 0;
      async function* endless(): AsyncIterable<Uint8Array> {
        for (;;) {
          pulled++;
          yield bytes(64 * 1024);
        }
      }
      const refused = stores.blobs.put(endless(), { maxBytes: 300 * 1024 });
      await expect(refused).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
      expect(pulled).toBe(5);
      // exactly maxBytes is fine
      const exact = await stores.blobs.put(pieces(bytes(100)), { maxBytes: 100 });
      expect(exact.size).toBe(100);
    });
  });
});

describe('the audit log is append-only in the database itself', () => {
  it('on SQLite', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moim-audit-'));
    const db = SqliteDb.open(path.join(dir, 'moim.sqlite'));
    try {
      db.migrate(sqliteMigrations);
      const e = await new SqliteAuditStore(db).append({ actor: 'ann', action: 'doc.delete' });
      expect(() => db.run("UPDATE audit_log SET actor = 'eve' WHERE id = ?", e.id)).toThrow(/append-only/);
      expect(() => db.run('DELETE FROM audit_log')).toThrow(/append-only/);
      expect(await new SqliteAuditStore(db).list({ limit: 10 })).toEqual([e]);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('on PostgreSQL', async () => {
    const schema = uniqueSchema('audit');
    const db = await PgDb.open({ url: TEST_DATABASE_URL, schema });
    try {
      await db.migrate([...coreMigrations, ...securityMigrations]);
      const audit = new PgAuditStore(db);
      const e = await audit.append({ actor: 'ann', action: 'doc.delete', detail: { name: 'notes' } });
      await expect(db.query("UPDATE audit_log SET actor = 'eve' WHERE id = $1", [e.id])).rejects.toThrow(/append-only/);
      await expect(db.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
      await expect(db.query('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
      expect(await audit.list({ limit: 10 })).toEqual([e]);
    } finally {
      await db.close();
      await dropSchema(schema);
    }
  });
});

describe('PostgreSQL: two nodes on one database', () => {
  const schema = uniqueSchema('core2');
  let dbs: PgDb[] = [];
  beforeAll(async () => {
    dbs = [await PgDb.open({ url: TEST_DATABASE_URL, schema }), await PgDb.open({ url: TEST_DATABASE_URL, schema })];
    await Promise.all(dbs.map((db) => db.migrate([...coreMigrations, ...securityMigrations])));
  });
  afterAll(async () => {
    await Promise.all(dbs.map((db) => db.close()));
    await dropSchema(schema);
  });
  const node = (i: number) => dbs[i] as PgDb;

  it('two nodes appending to the audit log at once build one chain: no seq twice, every link holds', async () => {
    const [a, b] = [new PgAuditStore(node(0)), new PgAuditStore(node(1))];
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).append({ actor: `p${i}`, action: 'race', org: 'acme' })),
    );
    const rows = await a.chain({ limit: 100 });
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prevHash).toBe(rows[i - 1]!.hash);
    expect(await b.head()).toEqual({ seq: 40, hash: rows[39]!.hash });
  });

  it('of two nodes creating one room at once, exactly one succeeds; the other gets CONFLICT', async () => {
    const [a, b] = [new PgRoomStore(node(0)), new PgRoomStore(node(1))];
    for (let i = 0; i < 10; i++) {
      const results = await Promise.allSettled([
        a.create(room(`race-${i}`)),
        b.create({ ...room(`race-${i}`), ownerSub: 'bob' }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const lost = results.find((r) => r.status === 'rejected');
      expect(lost?.status === 'rejected' && lost.reason).toMatchObject({ code: 'CONFLICT' });
      const winner = results.findIndex((r) => r.status === 'fulfilled');
      expect((await b.get('acme', `race-${i}`))?.ownerSub).toBe(winner === 0 ? 'ann' : 'bob');
    }
  });

  it('an attachment stored on one node is read whole on the other', async () => {
    const content = bytes(CHUNK_BYTES * 3 + 1, 9);
    const stored = await new PgBlobStore(node(0)).put(pieces(content), { maxBytes: content.byteLength });
    const got = await new PgBlobStore(node(1)).get(stored.key);
    expect(got?.size).toBe(content.byteLength);
    expect(sha(await readAll(got?.stream as Readable))).toBe(stored.sha256);
    await new PgBlobStore(node(1)).delete(stored.key);
    expect(await new PgBlobStore(node(0)).get(stored.key)).toBeUndefined();
    expect(await node(0).query('SELECT 1 FROM blob_chunks WHERE key = $1', [stored.key])).toEqual([]);
  });

  it('a transaction whose connection PostgreSQL ends fails UNAVAILABLE, with no uncaught error', async () => {
    // PostgreSQL restarting ends each session (57P01): the checked-out client emits `error`, which
    // was an uncaught exception (the node exited) until PgDb listened on checked-out clients
    const tx = node(0).tx(async (t) => {
      const me = await t.one<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await node(1).query('SELECT pg_terminate_backend($1)', [me?.pid]);
      await new Promise((r) => setTimeout(r, 200));
      await t.query('SELECT 1');
    });
    await expect(tx).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(await node(0).one('SELECT 1 AS x')).toEqual({ x: 1 });
  });

  it('a refused or failed upload keeps nothing', async () => {
    const blobs = new PgBlobStore(node(0));
    const count = async () =>
      (
        await node(0).one<{ n: number }>(
          'SELECT (SELECT count(*) FROM blobs)::int + (SELECT count(*) FROM blob_chunks)::int AS n',
        )
      )?.n;
    const before = await count();
    await expect(
      blobs.put(pieces(bytes(CHUNK_BYTES), bytes(CHUNK_BYTES)), { maxBytes: CHUNK_BYTES + 1 }),
    ).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    });
    async function* failing(): AsyncIterable<Uint8Array> {
      yield bytes(CHUNK_BYTES * 2);
      throw new Error('client went away');
    }
    await expect(blobs.put(failing(), { maxBytes: CHUNK_BYTES * 10 })).rejects.toThrow('client went away');
    expect(await count()).toBe(before);
  });
});
