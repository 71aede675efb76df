import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { sqliteMigrations } from '../storage/sqlite/migrations/index.ts';
import { SqliteDb } from '../storage/sqlite/SqliteDb.ts';
import { SqliteRoomStore } from '../storage/sqlite/SqliteRoomStore.ts';
import { call, startTestServer, type TestServer } from '../testing/index.ts';
import { createRoom, mediaPeer } from './testing/testPeers.ts';

let server: TestServer | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('SqliteRoomStore', () => {
  test('create, get, close, ban; ids unique; tier and org immutable; another org finds nothing', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moim-rooms-'));
    dirs.push(dir);
    const db = SqliteDb.open(path.join(dir, 'db.sqlite'));
    db.migrate(sqliteMigrations);
    const store = new SqliteRoomStore(db);
    const room = {
      id: 'r1',
      org: 'acme',
      tier: 'standard' as const,
      name: 'Team',
      ownerSub: 'u1',
      docName: 'room-r1-notes',
      createdAt: 1,
    };
    expect(await store.create(room)).toEqual({ ...room, closedAt: null });
    await expect(store.create({ ...room, tier: 'personal' })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(() => db.run("UPDATE media_rooms SET tier = 'immersive' WHERE id = 'r1'")).toThrow(/tier cannot change/);
    expect(() => db.run("UPDATE media_rooms SET org = 'evil' WHERE id = 'r1'")).toThrow(/org cannot change/);
    expect((await store.get('acme', 'r1'))?.tier).toBe('standard');
    expect(await store.get('evil', 'r1')).toBeUndefined();
    expect(await store.get('default', 'r1')).toBeUndefined();
    expect(await store.isBanned('r1', 'u2')).toBe(false);
    await store.ban('r1', 'u2', 'u1', 5);
    await store.ban('r1', 'u2', 'u1', 6);
    expect(await store.isBanned('r1', 'u2')).toBe(true);
    expect(await store.close('r1', 9)).toBe(true);
    expect(await store.close('r1', 10)).toBe(false);
    expect((await store.get('acme', 'r1'))?.closedAt).toBe(9);
    expect(await store.get('acme', 'nope')).toBeUndefined();
    db.close();
  });
});

describe('migration 0301_media_room_org', () => {
  test('rooms stored before it belong to the default organisation', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moim-rooms-'));
    dirs.push(dir);
    const db = SqliteDb.open(path.join(dir, 'db.sqlite'));
    db.migrate(sqliteMigrations.filter((m) => m.id < '0301'));
    db.run(
      "INSERT INTO media_rooms (id, tier, name, owner_sub, doc_name, created_at) VALUES ('old', 'standard', NULL, 'u1', 'n', 1)",
    );
    expect(db.migrate(sqliteMigrations)).toContain('0301_media_room_org');
    const store = new SqliteRoomStore(db);
    expect(await store.get('default', 'old')).toMatchObject({ id: 'old', org: 'default', ownerSub: 'u1' });
    expect(await store.get('acme', 'old')).toBeUndefined();
    db.close();
  });
});

describe('MediaService', () => {
  test('join hands out ICE servers with TURN REST credentials and the linked document', async () => {
    server = await startTestServer({
      MOIM_TURN_URLS: '["turns:turn.example.org:443?transport=tcp"]',
      MOIM_TURN_SECRET: 'turn-secret',
      MOIM_TURN_TTL_S: '600',
    });
    const p = await mediaPeer(server, { name: 'Dana' });
    const { roomId } = await call<{ roomId: string }>(p.socket, 'room:create', {
      tier: 'standard',
      docName: 'team-notes',
    });
    const join = await p.join(roomId);
    expect(join.room.docName).toBe('team-notes');
    const [ice] = join.iceServers;
    expect(ice?.urls).toEqual(['turns:turn.example.org:443?transport=tcp']);
    const [expiry, user] = ice!.username!.split(':');
    expect(Number(expiry)).toBeGreaterThan(Date.now() / 1000);
    const { sub, org } = await call<{ sub: string; org: string }>(p.socket, 'system:whoami', {});
    // the person part names the org too: coturn's per-person quota must not be shared across orgs
    expect(user).toBe(`${encodeURIComponent(org)}/${encodeURIComponent(sub)}`);
    expect(ice?.credential).toBeTruthy();
  });

  test('memberJoined and memberLeft follow joins and leaves (for presence)', async () => {
    server = await startTestServer();
    const seen: string[] = [];
    server.app.media.on('memberJoined', (roomId, sub, conn) => seen.push(`join ${roomId} ${sub} ${conn}`));
    server.app.media.on('memberLeft', (roomId, sub, conn) => seen.push(`left ${roomId} ${sub} ${conn}`));
    const p = await mediaPeer(server, { name: 'Eli' });
    const { roomId } = await createRoom(p, 'personal');
    await p.join(roomId);
    await call(p.socket, 'room:leave', { roomId });
    expect(seen).toHaveLength(2);
    expect(seen[0]?.startsWith(`join ${roomId} `)).toBe(true);
    expect(seen[1]).toBe(seen[0]!.replace('join', 'left'));
    expect(await call(p.socket, 'room:leave', { roomId })).toEqual({ left: false });
  });
});
