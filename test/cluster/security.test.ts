/**
 * Data-leak policy and audit chain across two node processes on one PostgreSQL and Redis: a
 * policy changed through node A refuses at once on node B (no reconnect) and reaches a socket on
 * node B that follows it; guests shut out on A lose their live channel subscription and their open
 * `/yjs` connection on B at once; both nodes append to ONE audit chain (no seq twice, every link holds),
 * signed with the cluster's shared key, and `npm run audit:verify` passes it with both nodes'
 * anchor files.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Channel, ContentPolicyView } from '@moim/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAuditKey } from '../../server/src/audit/auditKey.ts';
import { TEST_DATABASE_URL } from '../../server/src/storage/contract/backends.ts';
import { devToken } from '../support/serverProcess.ts';
import { useCluster } from './fixture.ts';
import { call, connect, nextEvent, request } from './support.ts';

const keyDir = mkdtempSync(path.join(tmpdir(), 'moim-audit-key-'));
const keyFile = path.join(keyDir, 'audit.pem');
loadAuditKey(keyFile, { create: true });
const fixture = useCluster(['node-a', 'node-b'], {
  MOIM_AUDIT_KEY_FILE: keyFile,
  MOIM_AUDIT_ANCHOR_INTERVAL_MS: '1000',
});
const nodes = fixture.nodes;
afterAll(() => rmSync(keyDir, { recursive: true, force: true }));

describe('security across nodes', () => {
  it('a policy set on node A applies on node B at once, and B’s followers are told', async () => {
    const [a, b] = [nodes[0]!, nodes[1]!];
    const ownerToken = await devToken(a.url, { name: 'Ann', sub: 'sec-ann' });
    const guestToken = await devToken(a.url, {
      name: 'Gus',
      sub: 'sec-gus',
      grants: { rooms: {}, docs: {}, chat: true },
    });
    const owner = await connect(a.url, ownerToken);
    const guestB = await connect(b.url, guestToken);
    try {
      const ch = await call<Channel>(owner, 'chat:channel:create', {
        name: 'x',
        kind: 'private',
        members: ['sec-gus'],
      });
      await call(owner, 'chat:send', { channelId: ch.id, clientMsgId: 'm', text: 'hello' });
      const history = () => request(guestB, 'chat:history', { channelId: ch.id, limit: 5 });
      expect('data' in (await history())).toBe(true);
      await call(guestB, 'policy:get', { kind: 'channel', id: ch.id });
      const told = nextEvent<ContentPolicyView>(guestB, 'policy:changed');
      const res = await fetch(`${a.url}/policies/channel/${encodeURIComponent(ch.id)}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${ownerToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ guests: false }),
      });
      expect(res.status).toBe(200);
      expect((await told).policy.guests).toBe(false);
      const refused = await history();
      expect('error' in refused && refused.error.code).toBe('POLICY_FORBIDS');
    } finally {
      owner.disconnect();
      guestB.disconnect();
    }
  });

  it('guests shut out through node A lose their live channel and their open document on node B at once', async () => {
    const [a, b] = [nodes[0]!, nodes[1]!];
    const doc = 'sec-guest-doc';
    const ownerToken = await devToken(a.url, { name: 'Ona', sub: 'sec-ona' });
    const memberToken = await devToken(b.url, { name: 'Mo', sub: 'sec-mo' });
    const guestToken = await devToken(b.url, {
      name: 'Gil',
      sub: 'sec-gil',
      grants: { rooms: {}, docs: { [doc]: ['read'] }, chat: true },
    });
    const owner = await connect(a.url, ownerToken);
    const memberB = await connect(b.url, memberToken);
    const guestB = await connect(b.url, guestToken);
    const { default: WebSocket } = await import('ws');
    const { DOC_CLOSE } = await import('@moim/protocol');
    const docRes = await fetch(`${a.url}/docs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ownerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: doc }),
    });
    expect(docRes.status).toBe(201);
    const ws = new WebSocket(`${b.url.replace('http', 'ws')}/yjs/${doc}?token=${guestToken}`);
    const within = <T>(p: Promise<T>, what: string): Promise<T> =>
      Promise.race([
        p,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 15_000)),
      ]);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    try {
      await within(
        new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        }),
        'the guest’s /yjs connection on node B to open',
      );
      const ch = await call<Channel>(owner, 'chat:channel:create', {
        name: 'y',
        kind: 'private',
        members: ['sec-gil', 'sec-mo'],
      });
      await call(guestB, 'chat:subscribe', { channelId: ch.id });
      await call(memberB, 'chat:subscribe', { channelId: ch.id });
      const put = (kind: string, id: string) =>
        fetch(`${a.url}/policies/${kind}/${encodeURIComponent(id)}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${ownerToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ guests: false }),
        });
      expect((await put('doc', doc)).status).toBe(200);
      // node B closes the guest's /yjs connection it holds (the change was made on A)
      expect(await within(closed, 'node B to close the guest’s /yjs connection')).toBe(DOC_CLOSE.FORBIDDEN.code);

      expect((await put('channel', ch.id)).status).toBe(200);
      // the relayed change travels the adapter's stream before the message does (it is sent before the
      // PUT answers): a message the member on B gets, and the guest on B does not
      const seenByGuest: string[] = [];
      guestB.on('chat:message', (m: { text: string }) => seenByGuest.push(m.text));
      const memberGot = nextEvent<{ text: string }>(memberB, 'chat:message');
      await call(owner, 'chat:send', { channelId: ch.id, clientMsgId: 'after', text: 'not for guests' });
      expect((await memberGot).text).toBe('not for guests');
      await new Promise((r) => setTimeout(r, 300));
      expect(seenByGuest).toEqual([]);
    } finally {
      ws.close();
      owner.disconnect();
      memberB.disconnect();
      guestB.disconnect();
    }
  });

  it('both nodes append to one audit chain, verified with both anchor files', async () => {
    const [a, b] = [nodes[0]!, nodes[1]!];
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => devToken(i % 2 ? a.url : b.url, { name: `P${i}`, sub: `sec-p${i}` })),
    );
    // let each node anchor its head (interval 1 s)
    await new Promise((r) => setTimeout(r, 2500));
    const r = spawnSync(
      process.execPath,
      [
        path.resolve(import.meta.dirname, '../../scripts/audit-verify.ts'),
        '--anchors',
        path.join(a.dataDir, 'audit-anchors.jsonl'),
        '--anchors',
        path.join(b.dataDir, 'audit-anchors.jsonl'),
        '--json',
      ],
      {
        env: {
          ...process.env,
          MOIM_ENV: 'test',
          MOIM_DATA_DIR: a.dataDir,
          DATABASE_URL: TEST_DATABASE_URL,
          MOIM_DATABASE_SCHEMA: fixture.cluster.schema,
          MOIM_AUDIT_KEY_FILE: keyFile,
        },
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout) as { ok: boolean; rows: number; anchorsChecked: number; problems: unknown[] };
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.rows).toBeGreaterThanOrEqual(30);
    expect(report.anchorsChecked).toBeGreaterThanOrEqual(2);
    expect(r.status).toBe(0);
  });
});
