/**
 * The recording rules without media, on a real server: who may start one (the `record` grant, the
 * tier's policy), who may download its files (the policy's `downloadBy`, never where
 * `downloadsAllowed` is false, never another organisation) through the audited endpoint, and the
 * retention sweep, driven by moving the server's clock. Recordings are put in the store as the
 * service leaves them (files as blobs), so only the rules are under test here; the media path is
 * test/e2e/recording.e2e.test.ts.
 */
import { randomUUID } from 'node:crypto';
import type { RecordingPolicy, Tier } from '@moim/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../server/src/telework/Scheduler.ts';
import { call, request, startTestServer, type TestServer } from '../server/src/testing/index.ts';

const DAY = 86_400_000;
const POLICY: Record<Tier, RecordingPolicy> = {
  personal: { record: true, downloadsAllowed: false, downloadBy: 'recorders', retentionDays: 7 },
  standard: { record: true, downloadsAllowed: true, downloadBy: 'participants', retentionDays: 2 },
  immersive: { record: false, downloadsAllowed: true, downloadBy: 'recorders', retentionDays: 30 },
};

let server: TestServer;
const clock = new ManualClock(Date.UTC(2026, 11, 1, 9));

beforeAll(async () => {
  server = await startTestServer(
    { MOIM_RECORDING_POLICY: JSON.stringify(POLICY), MOIM_RECORDING_MAX_CONCURRENT: '1' },
    { clock },
  );
});

afterAll(async () => {
  await server?.close();
});

async function* bytes(text: string): AsyncIterable<Uint8Array> {
  yield new TextEncoder().encode(text);
}

/** A room of `org` owned by `owner`, and an ended recording of it with one file. */
async function recorded(tier: Tier, owner: string, org = 'default', srv = server) {
  const roomId = randomUUID();
  await srv.app.stores.rooms.create({
    id: roomId,
    org,
    tier,
    name: null,
    ownerSub: owner,
    docName: `room-${roomId}-notes`,
    createdAt: clock.now(),
  });
  const id = randomUUID();
  const manifest = { recordingId: id, roomId, startedAt: clock.now(), endedAt: null, tracks: [] };
  await srv.app.stores.recordings.create({
    id,
    nodeId: 'test',
    org,
    roomId,
    tier,
    startedBy: owner,
    startedAt: clock.now(),
    state: 'recording',
    manifest,
  });
  const blob = await srv.app.stores.blobs.put(bytes('webm bytes'), { maxBytes: 1024 });
  const endedAt = clock.now();
  await srv.app.stores.recordings.finish(id, {
    state: 'stopped',
    endedAt,
    failure: null,
    expiresAt: endedAt + POLICY[tier].retentionDays * DAY,
    manifest: { ...manifest, endedAt },
    files: [{ file: 't1-1.webm', blobKey: blob.key, bytes: blob.size }],
  });
  return { roomId, id, blobKey: blob.key };
}

async function download(token: string, id: string, file = 't1-1.webm', srv = server) {
  const res = await fetch(`${srv.url}/recordings/${id}/files/${file}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const body = res.status === 200 ? await res.text() : ((await res.json()) as { error: { code: string } }).error.code;
  return { status: res.status, body };
}

describe('recording rules', () => {
  it('starting: FORBIDDEN without `record`, POLICY_FORBIDS where the tier is not recorded, CONFLICT in an empty room', async () => {
    const manager = await server.person('Mia', { role: 'manager' });
    const member = await server.person('Ben');
    for (const tier of ['standard', 'immersive'] as const) {
      const { roomId } = await call<{ roomId: string }>(manager.socket, 'room:create', { tier });
      expect(await request(member.socket, 'room:startRecording', { roomId })).toMatchObject({
        error: { code: 'FORBIDDEN' },
      });
      const code = tier === 'immersive' ? 'POLICY_FORBIDS' : 'CONFLICT';
      expect(await request(manager.socket, 'room:startRecording', { roomId })).toMatchObject({ error: { code } });
    }
    // a room of another organisation does not exist for the caller
    const other = await server.person('Oz', { role: 'manager', org: 'other' });
    const { roomId } = await call<{ roomId: string }>(manager.socket, 'room:create', { tier: 'standard' });
    expect(await request(other.socket, 'room:startRecording', { roomId })).toMatchObject({
      error: { code: 'NOT_FOUND' },
    });
    // the room's data-leak policy (record: false) refuses it too, whatever the tier allows
    const put = await fetch(`${server.url}/policies/room/${roomId}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${manager.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ record: false }),
    });
    expect(put.status).toBe(200);
    expect(await request(manager.socket, 'room:startRecording', { roomId })).toMatchObject({
      error: { code: 'POLICY_FORBIDS' },
    });
    expect(await request(manager.socket, 'room:stopRecording', { roomId })).toMatchObject({
      error: { code: 'NOT_FOUND' },
    });
    for (const p of [manager, member, other]) p.socket.disconnect();
  });

  it('downloading is a sensitive action: STEP_UP_REQUIRED without a fresh passkey or certificate where step-up is on', async () => {
    const strict = await startTestServer(
      { MOIM_RECORDING_POLICY: JSON.stringify(POLICY), MOIM_STEP_UP: 'on' },
      { clock },
    );
    try {
      const owner = await strict.token({ name: 'Owner', sub: 'rec-strict-owner' });
      const { id } = await recorded('standard', 'rec-strict-owner', 'default', strict);
      expect(await download(owner, id, 't1-1.webm', strict)).toEqual({ status: 403, body: 'STEP_UP_REQUIRED' });
    } finally {
      await strict.close();
    }
  });

  it('a node at its bound of concurrent recordings refuses one more with TOO_MANY_RECORDINGS', async () => {
    const full = await startTestServer({ MOIM_RECORDING_MAX_CONCURRENT: '0' });
    try {
      const manager = await full.person('Mia', { role: 'manager' });
      const { roomId } = await call<{ roomId: string }>(manager.socket, 'room:create', { tier: 'standard' });
      expect(await request(manager.socket, 'room:startRecording', { roomId })).toMatchObject({
        error: { code: 'TOO_MANY_RECORDINGS' },
      });
    } finally {
      await full.close();
    }
  });

  it('downloads: recorders and the owner; participants where the policy says so; never where downloads are off; audited', async () => {
    const owner = await server.token({ name: 'Owner', sub: 'rec-owner' });
    const manager = await server.token({ name: 'Mia', sub: 'rec-manager', role: 'manager' });
    const member = await server.token({ name: 'Ben', sub: 'rec-member' });
    const outsider = await server.token({ name: 'Nil', sub: 'rec-outsider', grants: { rooms: {} } });
    const otherOrg = await server.token({ name: 'Oz', sub: 'rec-oz', role: 'manager', org: 'other' });

    // personal: downloads off — nobody, not even its owner or a manager
    const personal = await recorded('personal', 'rec-owner');
    for (const t of [owner, manager])
      expect(await download(t, personal.id)).toEqual({ status: 403, body: 'POLICY_FORBIDS' });

    // standard: participants (anyone granted join) too, but not someone without the room's grants
    const standard = await recorded('standard', 'rec-owner');
    for (const t of [owner, manager, member])
      expect(await download(t, standard.id)).toEqual({ status: 200, body: 'webm bytes' });
    expect(await download(outsider, standard.id)).toEqual({ status: 403, body: 'FORBIDDEN' });
    expect(await download(otherOrg, standard.id)).toEqual({ status: 404, body: 'NOT_FOUND' });
    expect(await download(manager, standard.id, 't9-9.webm')).toEqual({ status: 404, body: 'NOT_FOUND' });
    expect(await download(manager, standard.id, '..%2Fmoim.sqlite')).toMatchObject({ status: 404 });

    // immersive (recorders only): the owner and a manager, not a member
    const immersive = await recorded('immersive', 'rec-owner');
    expect((await download(owner, immersive.id)).status).toBe(200);
    expect((await download(manager, immersive.id)).status).toBe(200);
    expect(await download(member, immersive.id)).toEqual({ status: 403, body: 'FORBIDDEN' });

    const audit = await server.app.stores.audit.list({ action: 'recording.download', limit: 100 });
    expect(audit.filter((e) => e.target === standard.id).map((e) => e.actor)).toEqual([
      'rec-owner',
      'rec-manager',
      'rec-member',
    ]);

    // listed with the room, with the tier's policy
    const res = await fetch(`${server.url}/rooms/${standard.roomId}/recordings`, {
      headers: { authorization: `Bearer ${member}` },
    });
    const listed = (await res.json()) as { recordings: Array<{ recordingId: string }>; policy: RecordingPolicy };
    expect(listed.recordings.map((r) => r.recordingId)).toEqual([standard.id]);
    expect(listed.policy).toEqual(POLICY.standard);
  });

  it('retention: the sweep deletes a recording and its files once its days are over, by the moved clock', async () => {
    const manager = await server.token({ name: 'Mia', sub: 'rec-manager', role: 'manager' });
    const short = await recorded('standard', 'rec-owner'); // 2 days
    const long = await recorded('personal', 'rec-owner'); // 7 days
    expect(await server.app.scheduler.runDue('recording.retention')).toBe(0);

    clock.advance(2 * DAY + 1);
    await server.app.scheduler.runDue('recording.retention');
    expect(await server.app.stores.recordings.get('default', short.id)).toBeUndefined();
    expect(await server.app.stores.blobs.get(short.blobKey)).toBeUndefined();
    expect(await download(manager, short.id)).toEqual({ status: 404, body: 'NOT_FOUND' });
    expect(await server.app.stores.recordings.get('default', long.id)).toBeDefined();

    clock.advance(5 * DAY);
    await server.app.scheduler.runDue('recording.retention');
    expect(await server.app.stores.recordings.get('default', long.id)).toBeUndefined();
    expect(await server.app.stores.blobs.get(long.blobKey)).toBeUndefined();
    const expired = await server.app.stores.audit.list({ action: 'recording.expire', limit: 100 });
    expect(expired.map((e) => e.target)).toEqual(expect.arrayContaining([short.id, long.id]));
  });
});
