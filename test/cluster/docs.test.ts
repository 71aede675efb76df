/**
 * Documents across nodes (issue 13): clients of one document on different nodes converge; each
 * update is committed to PostgreSQL before it is relayed (Redis stream per document); awareness
 * crosses nodes with its node, and a killed node's cursors go.
 */
import { randomUUID } from 'node:crypto';
import type { DocTitleEvent } from '@moim/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type * as Y from 'yjs';
import { destroyAllClients, openDoc, synced, until } from '../docs-support.ts';
import { devToken } from '../support/serverProcess.ts';
import { useCluster } from './fixture.ts';
import { collect, connect, nextEvent } from './support.ts';

const fixture = useCluster(['docs-a', 'docs-b']);
const nodes = fixture.nodes;

afterEach(() => destroyAllClients());

const text = (doc: Y.Doc) => doc.getText('content').toString();

describe('documents across nodes', () => {
  it('clients on two nodes converge, and a client joining later loads the same from the store', async () => {
    const name = `notes-${randomUUID().slice(0, 8)}`;
    const [a, b] = await Promise.all(
      nodes.map(async (n, i) => openDoc(n.url, name, await devToken(n.url, { name: `writer${i}` }))),
    );
    await Promise.all([synced(a!), synced(b!)]);
    for (let i = 0; i < 100; i++) {
      const c = i % 2 ? a! : b!;
      c.text.insert(c.text.length, `${i};`);
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    const converged = () => text(a!.doc) === text(b!.doc) && text(a!.doc).split(';').length === 101;
    await until(converged, { doc: a!.doc, timeoutMs: 10_000, what: 'convergence across nodes' });
    // a third client, on the other node, gets exactly that
    const late = openDoc(nodes[1]!.url, name, await devToken(nodes[1]!.url, { name: 'late' }));
    await synced(late);
    expect(text(late.doc)).toBe(text(a!.doc));
  }, 60_000);

  it('a title set on one node is what every reader on the other node lists (titles live in PostgreSQL)', async () => {
    const [tokA, tokB] = await Promise.all(nodes.map((n, i) => devToken(n.url, { name: `titler${i}` })));
    const call = async <T>(url: string, method: string, path: string, tok: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      expect(res.status, `${method} ${path}`).toBeLessThan(300);
      return (await res.json()) as T;
    };
    const title = '2026년 하반기 원격 근무 운영 계획과 거점 사무실 좌석 예약 정책 개정안 검토';
    const { doc } = await call<{ doc: { name: string } }>(nodes[0]!.url, 'POST', '/docs', tokA!, { title });
    const listed = async (url: string, tok: string) =>
      (await call<{ docs: { name: string; title?: string }[] }>(url, 'GET', '/docs?limit=500', tok)).docs.find(
        (d) => d.name === doc.name,
      )?.title;
    expect(await listed(nodes[1]!.url, tokB!)).toBe(title);
    await call(nodes[1]!.url, 'PUT', `/docs/${doc.name}/title`, tokB!, { title: '주간 보고 (최종)' });
    expect(await listed(nodes[0]!.url, tokA!)).toBe('주간 보고 (최종)');
  }, 60_000);

  it('a rename on node A reaches at once the editors whose /yjs is on node B (their sockets on either node)', async () => {
    const [a, b] = [nodes[0]!, nodes[1]!];
    const [annTok, bobTok, caraTok, danTok] = await Promise.all(
      ['ann', 'bob', 'cara', 'dan'].map((name) =>
        devToken(a.url, { name, sub: `${name}-${randomUUID().slice(0, 6)}` }),
      ),
    );
    const created = await fetch(`${a.url}/docs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${annTok}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: '회의록' }),
    });
    expect(created.status).toBe(201);
    const { doc } = (await created.json()) as { doc: { name: string } };
    // bob and cara edit on node B; bob's socket.io is on B, cara's on A; dan is connected but has it not open
    const editors = [openDoc(b.url, doc.name, bobTok!), openDoc(b.url, doc.name, caraTok!)];
    await Promise.all(editors.map(synced));
    const [bob, cara, dan] = await Promise.all([
      connect(b.url, bobTok!),
      connect(a.url, caraTok!),
      connect(b.url, danTok!),
    ]);
    const danSaw = collect<DocTitleEvent>(dan!, 'doc:title');
    const bobLearns = nextEvent<DocTitleEvent>(bob!, 'doc:title', (e) => e.name === doc.name, 5000);
    const caraLearns = nextEvent<DocTitleEvent>(cara!, 'doc:title', (e) => e.name === doc.name, 5000);
    const renamedAt = Date.now();
    const res = await fetch(`${a.url}/docs/${doc.name}/title`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${annTok}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: '회의록 (확정)' }),
    });
    expect(res.status).toBe(200);
    const told = await bobLearns;
    expect(told).toMatchObject({ name: doc.name, title: '회의록 (확정)' });
    expect(told.at).toBeGreaterThanOrEqual(renamedAt - 1000);
    expect(await caraLearns).toEqual(told);
    expect(Date.now() - renamedAt).toBeLessThan(3000);
    await new Promise((r) => setTimeout(r, 300));
    expect(danSaw).toEqual([]);
    for (const s of [bob, cara, dan]) s!.disconnect();
  }, 60_000);

  it('awareness crosses nodes, and a killed node’s cursors go within the lease', async () => {
    const name = `cursors-${randomUUID().slice(0, 8)}`;
    const a = openDoc(nodes[0]!.url, name, await devToken(nodes[0]!.url, { name: 'Ann' }));
    const b = openDoc(nodes[1]!.url, name, await devToken(nodes[1]!.url, { name: 'Bob' }));
    await Promise.all([synced(a), synced(b)]);
    a.provider.awareness.setLocalStateField('user', { name: 'Ann' });
    const annId = a.doc.clientID;
    await until(() => b.provider.awareness.getStates().get(annId)?.user?.name === 'Ann', {
      timeoutMs: 5000,
      what: 'remote awareness',
    });
    const killedAt = Date.now();
    nodes[0]!.child.kill('SIGKILL');
    a.provider.disconnect();
    await until(() => !b.provider.awareness.getStates().has(annId), {
      timeoutMs: 10_000,
      what: 'dead node cursor gone',
    });
    expect(Date.now() - killedAt).toBeLessThan(8000);
  }, 60_000);
});
