/**
 * Data-leak policy and audit chain across two node processes on one PostgreSQL and Redis: a
 * policy changed through node A refuses at once on node B (no reconnect) and reaches a socket on
 * node B that follows it; both nodes append to ONE audit chain (no seq twice, every link holds),
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
