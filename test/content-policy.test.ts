/**
 * Data-leak policies: every route and event that returns stored content is taken from the
 * registrations (the HTTP router's routes with a content mark, the gateway's content events), and
 * each one is shown to serve a person the policy allows and to refuse them (POLICY_FORBIDS) once
 * the item's owner changes the policy — on the live connection, without reconnecting. A content
 * route or event without a scenario here fails the test: new ones must be added.
 */
import { randomUUID } from 'node:crypto';
import type { Channel, ContentPolicyView } from '@moim/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  LIFTED_RATE_LIMITS,
  nextEvent,
  request,
  startTestServer,
  type TestServer,
  type TestSocket,
} from '../server/src/testing/index.ts';
import { upload } from './attachments-support.ts';

let server: TestServer;
let owner: { token: string; socket: TestSocket };
let member: { token: string; socket: TestSocket };
let guest: { token: string; socket: TestSocket };
let channelId: string;
let attachmentId: string;
let versionId: number;
let recordedRoomId: string;
let recordingId: string;
const DOC = 'plan-notes';

async function put(kind: string, id: string, changes: object, token = owner.token): Promise<Response> {
  return fetch(`${server.url}/policies/${kind}/${encodeURIComponent(id)}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(changes),
  });
}

const get = (path: string, token?: string) =>
  fetch(`${server.url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

/** What a request answered: 'ok' or its error code. */
async function outcome(res: Response): Promise<string> {
  if (res.ok) {
    await res.arrayBuffer();
    return 'ok';
  }
  return ((await res.json()) as { error: { code: string } }).error.code;
}
async function eventOutcome(socket: TestSocket, event: string, payload: unknown): Promise<string> {
  const ack = await request(socket, event, payload);
  return 'error' in ack ? ack.error.code : 'ok';
}

interface Scenario {
  /** The policy change that must refuse `who`. */
  refuse: { kind: 'room' | 'channel' | 'doc'; id: () => string; changes: object };
  /** Run the request as the person concerned; 'ok' or the error code. */
  run(): Promise<string>;
}

const linkOf = async (): Promise<string> => {
  const l = await call<{ url: string }>(member.socket, 'chat:attachment:link', { channelId, attachmentId });
  return l.url;
};

/** One scenario per content route (`METHOD /pattern`) and event name. */
const SCENARIOS = new Map<string, Scenario>([
  [
    'GET /chat/attachments/:id',
    {
      refuse: { kind: 'channel', id: () => channelId, changes: { download: false } },
      // a link issued while downloads were allowed is refused once they are not
      run: async () => {
        const u = new URL(await linkIssuedEarlier, server.url);
        return outcome(await get(u.pathname + u.search));
      },
    },
  ],
  [
    'chat:attachment:link',
    {
      refuse: { kind: 'channel', id: () => channelId, changes: { download: false } },
      run: () => eventOutcome(member.socket, 'chat:attachment:link', { channelId, attachmentId }),
    },
  ],
  [
    'chat:history',
    {
      refuse: { kind: 'channel', id: () => channelId, changes: { guests: false } },
      run: () => eventOutcome(guest.socket, 'chat:history', { channelId, limit: 10 }),
    },
  ],
  [
    'chat:subscribe',
    {
      refuse: { kind: 'channel', id: () => channelId, changes: { guests: false } },
      run: () => eventOutcome(guest.socket, 'chat:subscribe', { channelId }),
    },
  ],
  [
    'GET /docs/:name/export',
    {
      refuse: { kind: 'doc', id: () => DOC, changes: { export: false } },
      run: async () => outcome(await get(`/docs/${DOC}/export?format=text`, member.token)),
    },
  ],
  [
    'GET /docs/:name/versions',
    {
      refuse: { kind: 'doc', id: () => DOC, changes: { guests: false } },
      run: async () => outcome(await get(`/docs/${DOC}/versions`, guest.token)),
    },
  ],
  [
    'GET /recordings/:id/files/:file',
    {
      refuse: { kind: 'room', id: () => recordedRoomId, changes: { download: false } },
      run: async () => outcome(await get(`/recordings/${recordingId}/files/t1-1.webm`, owner.token)),
    },
  ],
  [
    'GET /docs/:name/versions/:id',
    {
      refuse: { kind: 'doc', id: () => DOC, changes: { export: false } },
      run: async () => outcome(await get(`/docs/${DOC}/versions/${versionId}`, member.token)),
    },
  ],
]);

let linkIssuedEarlier: Promise<string>;

beforeAll(async () => {
  // the bounds test follows 200 policies in a row: the request rate limits are not what it tests
  server = await startTestServer(LIFTED_RATE_LIMITS);
  const mk = async (sub: string, extra: object = {}) => {
    const token = await server.token({ name: sub, sub, org: 'acme', ...extra });
    return { token, socket: await server.connect(token) };
  };
  owner = await mk('ann');
  member = await mk('bob');
  // a guest: grants that name this channel's document only, never `*`
  guest = await mk('gus', { grants: { rooms: {}, docs: { [DOC]: ['read'] }, chat: true } });
  const ch = await call<Channel>(owner.socket, 'chat:channel:create', {
    name: 'plans',
    kind: 'private',
    members: ['bob', 'gus'],
  });
  channelId = ch.id;
  await call(owner.socket, 'chat:send', { channelId, clientMsgId: 'm1', text: 'the plan' });
  const up = await upload(server.url, owner.token, channelId, new Uint8Array([37, 80, 68, 70]));
  expect(up.status).toBe(201);
  attachmentId = up.attachment!.id;
  const created = await fetch(`${server.url}/docs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${owner.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: DOC }),
  });
  expect(created.status).toBe(201);
  const saved = await fetch(`${server.url}/docs/${DOC}/versions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${owner.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ label: 'v1' }),
  });
  versionId = ((await saved.json()) as { version: { id: number } }).version.id;
  linkIssuedEarlier = linkOf();
  await linkIssuedEarlier;
  // a finished recording of ann's room, with one file
  recordedRoomId = randomUUID();
  recordingId = randomUUID();
  const now = Date.now();
  const stores = server.app.stores;
  await stores.rooms.create({
    id: recordedRoomId,
    org: 'acme',
    tier: 'standard',
    name: null,
    ownerSub: 'ann',
    docName: `room-${recordedRoomId}-notes`,
    createdAt: now,
  });
  const manifest = { recordingId, roomId: recordedRoomId, startedAt: now, endedAt: null, tracks: [] };
  await stores.recordings.create({
    id: recordingId,
    nodeId: 'test',
    org: 'acme',
    roomId: recordedRoomId,
    tier: 'standard',
    startedBy: 'ann',
    startedAt: now,
    state: 'recording',
    manifest,
  });
  const blob = await stores.blobs.put(
    (async function* () {
      yield new TextEncoder().encode('webm bytes');
    })(),
    { maxBytes: 1024 },
  );
  await stores.recordings.finish(recordingId, {
    state: 'stopped',
    endedAt: now,
    failure: null,
    expiresAt: now + 86_400_000,
    manifest: { ...manifest, endedAt: now },
    files: [{ file: 't1-1.webm', blobKey: blob.key, bytes: blob.size }],
  });
});
afterAll(async () => {
  await server?.close();
});

describe('every route and event that returns stored content', () => {
  it('is derived from the registrations, and each has a scenario here', () => {
    const routes = server.app.router
      .routes()
      .filter((r) => r.content)
      .map((r) => `${r.method} ${r.pattern}`);
    const events = server.app.gateway.contentEvents().map((e) => e.name as string);
    expect(routes.length).toBeGreaterThanOrEqual(4);
    expect(events.length).toBeGreaterThanOrEqual(2);
    for (const key of [...routes, ...events]) expect(SCENARIOS.has(key), `a scenario for ${key}`).toBe(true);
  });

  for (const [key, scenario] of SCENARIOS) {
    it(`${key}: served while the policy allows, refused (POLICY_FORBIDS) once it does not`, async () => {
      const registered = [
        ...server.app.router.routes().map((r) => `${r.method} ${r.pattern}`),
        ...server.app.gateway.contentEvents().map((e) => e.name as string),
      ];
      expect(registered).toContain(key);
      expect(await scenario.run()).toBe('ok');
      const id = scenario.refuse.id();
      expect((await put(scenario.refuse.kind, id, scenario.refuse.changes)).status).toBe(200);
      try {
        expect(await scenario.run()).toBe('POLICY_FORBIDS');
      } finally {
        const reset = Object.fromEntries(Object.keys(scenario.refuse.changes).map((k) => [k, true]));
        expect((await put(scenario.refuse.kind, id, reset)).status).toBe(200);
      }
      expect(await scenario.run()).toBe('ok');
    });
  }
});

describe('policy changes', () => {
  it('only owners and admins change a policy; each change is audited and reaches live sockets', async () => {
    expect(await outcome(await put('channel', channelId, { watermark: true }, member.token))).toBe('FORBIDDEN');
    const view = await call<ContentPolicyView>(member.socket, 'policy:get', { kind: 'channel', id: channelId });
    expect(view.policy.watermark).toBe(false);
    const changed = nextEvent<ContentPolicyView>(member.socket, 'policy:changed');
    expect((await put('channel', channelId, { watermark: true })).status).toBe(200);
    expect((await changed).policy).toMatchObject({ watermark: true, download: true });
    const admin = await server.token({ name: 'adm', sub: 'adm', org: 'acme', role: 'admin' });
    expect((await put('channel', channelId, { watermark: false }, admin)).status).toBe(200);
    const log = await server.app.stores.audit.chain({ org: 'acme', limit: 1000 });
    const sets = log.filter((r) => r.action === 'policy.set' && r.target === channelId);
    expect(sets.map((r) => r.actor).slice(-2)).toEqual(['ann', 'adm']);
    expect(log.some((r) => r.action === 'policy.refused')).toBe(true);
    // downloads are audited: an attachment through its link, a document's export and a version's content
    for (const action of ['chat.attachment.download', 'doc.export', 'doc.version.read'])
      expect(
        log.some((r) => r.action === action),
        action,
      ).toBe(true);
  });

  it('an item of another organisation is not found; a bad kind is refused', async () => {
    const other = await server.token({ name: 'eve', sub: 'eve', org: 'globex', role: 'admin' });
    expect(await outcome(await put('channel', channelId, { download: false }, other))).toBe('NOT_FOUND');
    expect(await outcome(await put('__proto__', 'x', { download: false }))).toBe('INVALID_PAYLOAD');
    expect(await outcome(await put('doc', DOC, { download: 'no' }))).toBe('INVALID_PAYLOAD');
  });

  it('changing a policy is a sensitive action: STEP_UP_REQUIRED without a fresh second factor where step-up is on', async () => {
    const strict = await startTestServer({ MOIM_STEP_UP: 'on' });
    try {
      const token = await strict.token({ name: 'ann', sub: 'ann', org: 'acme', role: 'admin' });
      const res = await fetch(`${strict.url}/policies/doc/${DOC}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ export: false }),
      });
      expect(res.status).toBe(403);
      expect(await outcome(res)).toBe('STEP_UP_REQUIRED');
    } finally {
      await strict.close();
    }
  });

  it('recordings ask the same place: check(principal, "room", id, "download")', async () => {
    const { Principal } = await import('../server/src/auth/Principal.ts');
    const p = new Principal(server.app.tokens.verify(member.token));
    await expect(server.app.contentPolicy.check(p, 'room', 'r-1', 'download')).resolves.toMatchObject({
      download: true,
    });
    await server.app.stores.policies.put({
      org: 'acme',
      kind: 'room',
      target: 'r-1',
      policy: { download: false, record: false },
      updatedBy: 'ann',
      updatedAt: Date.now(),
    });
    await expect(server.app.contentPolicy.check(p, 'room', 'r-1', 'download')).rejects.toMatchObject({
      code: 'POLICY_FORBIDS',
    });
    await expect(server.app.contentPolicy.check(p, 'room', 'r-1', 'record')).rejects.toMatchObject({
      code: 'POLICY_FORBIDS',
    });
  });
});

describe('refusals tell nothing to people without access', () => {
  it('someone without a grant for a restricted document is FORBIDDEN, not told its policy', async () => {
    const outsider = await server.token({ name: 'out', sub: 'out', org: 'acme', grants: { docs: {}, rooms: {} } });
    expect((await put('doc', DOC, { export: false })).status).toBe(200);
    try {
      expect(await outcome(await get(`/docs/${DOC}/export?format=text`, outsider))).toBe('FORBIDDEN');
      expect(await outcome(await get(`/docs/${DOC}/export?format=text`, member.token))).toBe('POLICY_FORBIDS');
    } finally {
      await put('doc', DOC, { export: true });
    }
  });
});

describe('documents opened on /yjs', () => {
  it('a guest is refused when the document’s policy shuts guests out (close code FORBIDDEN)', async () => {
    const { default: WebSocket } = await import('ws');
    const { DOC_CLOSE } = await import('@moim/protocol');
    const open = (token: string) =>
      new Promise<number | 'open'>((resolve) => {
        const ws = new WebSocket(`${server.url.replace('http', 'ws')}/yjs/${DOC}?token=${token}`);
        const timer = setTimeout(() => {
          ws.close();
          resolve('open');
        }, 1500);
        ws.once('close', (code) => {
          clearTimeout(timer);
          resolve(code);
        });
      });
    expect(await open(guest.token)).toBe('open');
    expect((await put('doc', DOC, { guests: false })).status).toBe(200);
    try {
      expect(await open(guest.token)).toBe(DOC_CLOSE.FORBIDDEN.code);
      expect(await open(member.token)).toBe('open');
    } finally {
      await put('doc', DOC, { guests: true });
    }
  });
});

describe('bounds', () => {
  it('a connection follows at most MAX_POLICY_FOLLOWS policies', async () => {
    const { MAX_POLICY_FOLLOWS } = await import('../server/src/policy/wirePolicy.ts');
    for (let i = 0; i <= MAX_POLICY_FOLLOWS; i++) {
      const res = await fetch(`${server.url}/docs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${owner.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `follow-${i}` }),
      });
      expect(res.status).toBe(201);
    }
    const s = await server.connect(owner.token);
    for (let i = 0; i < MAX_POLICY_FOLLOWS; i++) await call(s, 'policy:get', { kind: 'doc', id: `follow-${i}` });
    // the same one again is no new follow; a new one is refused
    await call(s, 'policy:get', { kind: 'doc', id: 'follow-0' });
    expect(await eventOutcome(s, 'policy:get', { kind: 'doc', id: `follow-${MAX_POLICY_FOLLOWS}` })).toBe(
      'TOO_MANY_SUBSCRIPTIONS',
    );
    s.disconnect();
  });
});

describe('guests shut out while connected', () => {
  it('a guest’s open /yjs connection to the document ends at once', async () => {
    const { default: WebSocket } = await import('ws');
    const { DOC_CLOSE } = await import('@moim/protocol');
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/yjs/${DOC}?token=${guest.token}`);
    const memberWs = new WebSocket(`${server.url.replace('http', 'ws')}/yjs/${DOC}?token=${member.token}`);
    await Promise.all([ws, memberWs].map((w) => new Promise((r) => w.once('open', r))));
    await new Promise((r) => setTimeout(r, 300)); // joined
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    expect((await put('doc', DOC, { guests: false })).status).toBe(200);
    try {
      expect(await closed).toBe(DOC_CLOSE.FORBIDDEN.code);
      expect(memberWs.readyState).toBe(WebSocket.OPEN);
    } finally {
      memberWs.close();
      await put('doc', DOC, { guests: true });
    }
  });

  it('a guest subscribed to the channel stops receiving its messages (and may not subscribe again); members still do', async () => {
    for (const p of [guest, member]) await call(p.socket, 'chat:subscribe', { channelId });
    const seen = { guest: 0, member: 0 };
    guest.socket.on('chat:message' as never, () => {
      seen.guest++;
    });
    member.socket.on('chat:message' as never, () => {
      seen.member++;
    });
    expect((await put('channel', channelId, { guests: false })).status).toBe(200);
    try {
      await call(owner.socket, 'chat:send', { channelId, clientMsgId: 'after-shut', text: 'members only' });
      await expect.poll(() => seen.member).toBe(1);
      await new Promise((r) => setTimeout(r, 300));
      expect(seen.guest).toBe(0);
      expect(await eventOutcome(guest.socket, 'chat:subscribe', { channelId })).toBe('POLICY_FORBIDS');
    } finally {
      await put('channel', channelId, { guests: true });
    }
  });
});
