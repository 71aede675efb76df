import { DOC_CLOSE } from '@moim/protocol';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';
import {
  destroyAllClients,
  destroyAllRaw,
  docRef,
  frameKind,
  frames,
  openDoc,
  openRaw,
  pendingUpdate,
  type RawDocSocket,
  storedText,
  synced,
  until,
} from './docs-support.ts';

/**
 * Issue 11, item 4: Yjs updates with missing dependencies stayed pending in the server's Y.Doc and
 * were merged again with every later update: 100 updates of 500 KB froze the event loop for ~29 s.
 * Now each is checked against the document's state vector before it is applied, refused and
 * answered with sync step 1; a connection whose updates keep being refused is closed (4400).
 */

const MAX_PENDING = 8;
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ MOIM_DOC_MAX_PENDING_UPDATES: String(MAX_PENDING) });
});
afterAll(() => server.close());
afterEach(() => {
  destroyAllClients();
  destroyAllRaw();
});

/** Time every `/healthz` request made while `during` runs (one after the other, every 25 ms). */
async function healthLatencies(during: Promise<unknown>): Promise<number[]> {
  const latencies: number[] = [];
  let done = false;
  const stop = () => {
    done = true;
  };
  during.then(stop, stop);
  while (!done) {
    const started = performance.now();
    const res = await fetch(`${server.url}/healthz`);
    await res.arrayBuffer();
    expect(res.status).toBe(200);
    latencies.push(performance.now() - started);
    await new Promise((r) => setTimeout(r, 25));
  }
  return latencies;
}

/** `promise`, or a rejection naming `what` after `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const step1Count = (raw: RawDocSocket): number => raw.frames.filter((f) => frameKind(f) === 'sync-step1').length;

describe('updates with missing dependencies (issue 11, item 4)', () => {
  it('the reproduction: the server stays responsive, the attackers are cut off, the document is intact', async () => {
    const name = 'pending-attack';
    const good = openDoc(server.url, name, await server.token({ name: 'Good' }));
    await synced(good);
    good.text.insert(0, 'the real text');

    // three connections, each sending 20 updates of 500 KB from new client ids starting at clock 10
    const evil = await server.token({ name: 'Evil' });
    const attackers = [0, 1, 2].map(() => openRaw(server.url, name, evil));
    await Promise.all(attackers.map((a) => a.opened));
    const attack = (async () => {
      for (let i = 0; i < 20; i++) {
        for (const [k, a] of attackers.entries()) a.send(frames.update(pendingUpdate(5000 + k * 100 + i, 500_000)));
        await new Promise((r) => setImmediate(r));
      }
      return within(Promise.all(attackers.map((a) => a.closed)), 15_000, 'the attackers cut off');
    })();
    const latencies = await healthLatencies(attack);
    const closes = await attack;

    expect(latencies.length).toBeGreaterThan(0);
    expect(Math.max(...latencies), `healthz latencies ${latencies.map(Math.round).join(', ')}`).toBeLessThan(1000);
    for (const [k, c] of closes.entries()) {
      expect(c.code, `attacker ${k}`).toBe(DOC_CLOSE.MALFORMED.code);
      expect(c.reason).toContain('missing dependencies');
      // every refusal up to the bound was answered with sync step 1 (after the one on connect)
      expect(step1Count(attackers[k] as RawDocSocket)).toBe(1 + MAX_PENDING);
    }

    // the document holds nothing pending, and a normal client keeps editing
    const doc = await server.app.docs.loaded(docRef(name));
    expect(doc?.ydoc.store.pendingStructs).toBeNull();
    expect(doc?.ydoc.store.pendingDs).toBeNull();
    good.text.insert(good.text.length, ' + after');
    const fresh = openDoc(server.url, name, await server.token({ name: 'Fresh' }));
    await synced(fresh);
    await until(() => fresh.text.toString() === 'the real text + after', { doc: fresh.doc, what: 'intact text' });
    expect(await storedText(server, name)).toBe('the real text + after');
    // no attacker client id reached the stored document
    const rows = await server.app.stores.docs.loadContent(docRef(name));
    const stored = new Y.Doc();
    if (rows.state) Y.applyUpdate(stored, rows.state);
    for (const u of rows.updates) Y.applyUpdate(stored, u.update);
    expect([...Y.decodeStateVector(Y.encodeStateVector(stored)).keys()].filter((c) => c >= 5000 && c < 6000)).toEqual(
      [],
    );
    stored.destroy();
  });

  it('an update that arrives before the one it depends on is refused, answered with sync step 1, and catches up', async () => {
    const name = 'pending-out-of-order';
    const raw = openRaw(server.url, name, await server.token({ name: 'Relay' }));
    await raw.opened;
    const local = new Y.Doc();
    const text = local.getText('content');
    const updates: Uint8Array[] = [];
    local.on('update', (u: Uint8Array) => updates.push(u));
    text.insert(0, 'first ');
    text.insert(6, 'second');
    expect(updates).toHaveLength(2);

    // the second one first: refused, and the server asks what we have (sync step 1)
    raw.send(frames.update(updates[1] as Uint8Array));
    await until(() => step1Count(raw) === 2, { what: 'sync step 1 after the refusal' });
    const step1 = raw.frames.filter((f) => frameKind(f) === 'sync-step1').at(-1) as Uint8Array;
    const d = decoding.createDecoder(step1);
    decoding.readVarUint(d);
    decoding.readVarUint(d);
    const serverVector = decoding.readVarUint8Array(d);
    // answered as a stock provider does: everything the server lacks
    raw.send(frames.step2(Y.encodeStateAsUpdate(local, serverVector)));
    const reader = openDoc(server.url, name, await server.token({ name: 'Reader' }));
    await synced(reader);
    await until(() => reader.text.toString() === 'first second', { doc: reader.doc, what: 'caught up' });
    expect(raw.ws.readyState).toBe(raw.ws.OPEN);
    local.destroy();
  });

  it('refuses every kind of missing dependency: another client’s origin, a gap, a deleted range, a cycle', async () => {
    const name = 'pending-kinds';
    const good = openDoc(server.url, name, await server.token({ name: 'Good' }));
    await synced(good);
    good.text.insert(0, 'keep');
    await until(() => good.provider.synced, { what: 'synced' });

    const item = (client: number, clock: number, origin: Y.ID | null, parent: string | Y.ID | null, s: string) =>
      new Y.Item(Y.createID(client, clock), null, origin, null, null, parent as never, null, new Y.ContentString(s));
    /** An update of the given items (grouped by client, in order) and delete ranges. */
    const updateOf = (items: Y.Item[], deletes: Array<[number, number, number]> = []): Uint8Array => {
      const enc = new Y.UpdateEncoderV1();
      const byClient = new Map<number, Y.Item[]>();
      for (const it of items) byClient.set(it.id.client, [...(byClient.get(it.id.client) ?? []), it]);
      encoding.writeVarUint(enc.restEncoder, byClient.size);
      for (const [client, list] of byClient) {
        encoding.writeVarUint(enc.restEncoder, list.length);
        enc.writeClient(client);
        encoding.writeVarUint(enc.restEncoder, (list[0] as Y.Item).id.clock);
        for (const it of list) it.write(enc, 0);
      }
      encoding.writeVarUint(enc.restEncoder, deletes.length);
      for (const [client, clock, len] of deletes) {
        enc.resetDsCurVal();
        encoding.writeVarUint(enc.restEncoder, client);
        encoding.writeVarUint(enc.restEncoder, 1);
        enc.writeDsClock(clock);
        enc.writeDsLen(len);
      }
      return enc.toUint8Array();
    };
    const gap = (() => {
      // client 702: clocks 0–1, then 5–6 (2–4 missing), merged into one update with a skip
      const a = updateOf([item(702, 0, null, 'content', 'ab')]);
      const b = updateOf([item(702, 5, Y.createID(702, 4), null, 'cd')]);
      return Y.mergeUpdates([a, b]);
    })();
    const cases: Array<[string, Uint8Array]> = [
      ['origin on an unknown client', updateOf([item(701, 0, Y.createID(9999, 3), null, 'x')])],
      ['parent on an unknown client', updateOf([item(703, 0, null, Y.createID(9998, 0), 'x')])],
      ['a gap inside one client', gap],
      ['a deleted range nobody has', updateOf([], [[9997, 0, 5]])],
      [
        'a dependency cycle',
        updateOf([item(704, 0, Y.createID(705, 0), 'content', 'c'), item(705, 0, Y.createID(704, 0), 'content', 'c')]),
      ],
    ];
    for (const [what, update] of cases) {
      const raw = openRaw(server.url, name, await server.token({ name: 'Evil' }));
      await raw.opened;
      raw.send(frames.update(update));
      await until(() => step1Count(raw) === 2, { what: `sync step 1 for ${what}` });
      expect(raw.ws.readyState, what).toBe(raw.ws.OPEN);
      const doc = await server.app.docs.loaded(docRef(name));
      expect(doc?.ydoc.store.pendingStructs, what).toBeNull();
      expect(doc?.ydoc.store.pendingDs, what).toBeNull();
      raw.ws.close();
    }
    const fresh = openDoc(server.url, name, await server.token({ name: 'Fresh' }));
    await synced(fresh);
    await until(() => fresh.text.toString() === 'keep', { doc: fresh.doc, what: 'content' });
    expect([...fresh.doc.share.keys()]).toEqual(['content']);
  });

  it('counts refused bytes toward the document size cap (4413)', async () => {
    const capped = await startTestServer({
      MOIM_DOC_MAX_BYTES: '60000',
      MOIM_DOC_MAX_UPDATE_BYTES: '30000',
      MOIM_DOC_MAX_PENDING_UPDATES: '100',
    });
    try {
      const raw = openRaw(capped.url, 'pending-capped', await capped.token({ name: 'Evil' }));
      await raw.opened;
      for (let i = 0; i < 5; i++) raw.send(frames.update(pendingUpdate(800 + i, 20_000)));
      const closed = await raw.closed;
      expect(closed.code).toBe(DOC_CLOSE.TOO_LARGE.code);
      // 3 × 20 KB passed the 60 KB cap: two were answered with sync step 1, the third closed it
      expect(step1Count(raw)).toBe(1 + 2);
    } finally {
      destroyAllRaw();
      await capped.close();
    }
  });
});
