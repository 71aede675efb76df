import { DOC_CLOSE, docNameSchema } from '@moim/protocol';
import * as encoding from 'lib0/encoding';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';
import { api, closedWith, destroyAllClients, docRef, openDoc, synced, until } from './docs-support.ts';
import { MALFORMED_ESCAPES, PROTOTYPE_NAMES } from './support/hostile.ts';

const MAX_UPDATE = 4096;
const MAX_AWARENESS = 1024;
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    MOIM_DOC_MAX_UPDATE_BYTES: String(MAX_UPDATE),
    MOIM_DOC_AWARENESS_MAX_BYTES: String(MAX_AWARENESS),
  });
});
afterAll(() => server.close());
afterEach(() => destroyAllClients());

/** Deterministic PRNG (mulberry32) so a failing case can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const frame = (write: (e: encoding.Encoder) => void): Uint8Array => {
  const e = encoding.createEncoder();
  write(e);
  return encoding.toUint8Array(e);
};
/** A frame from parts: numbers as varUint, `{ bytes }` as varUint8Array, `{ raw }` as is, strings as varString. */
type Part = number | string | { bytes: Uint8Array } | { raw: Uint8Array };
const msg = (...parts: Part[]): Uint8Array =>
  frame((e) => {
    for (const p of parts) {
      if (typeof p === 'number') encoding.writeVarUint(e, p);
      else if (typeof p === 'string') encoding.writeVarString(e, p);
      else if ('bytes' in p) encoding.writeVarUint8Array(e, p.bytes);
      else encoding.writeUint8Array(e, p.raw);
    }
  });
/** Sync step 1 with an empty state vector: the server answers with sync step 2 (`[0, 1, …]`). */
const PROBE = msg(0, 0, { bytes: Y.encodeStateVector(new Y.Doc()) });

/**
 * Send one frame on a raw y-websocket connection, then a sync step 1 probe. Resolves with the
 * close code if the server closed the connection, or 0 once the probe was answered (the frame was
 * processed and the connection survived). The server's own greeting (sync step 1, awareness) and
 * its sync step 1 after a refused update are not the answer.
 */
async function sendRaw(url: string, doc: string, token: string, payload: Uint8Array): Promise<number> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/yjs/${doc}?token=${token}`);
  ws.binaryType = 'arraybuffer';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('no answer from the server'));
    }, 15_000);
    ws.on('error', () => {});
    ws.on('open', () => {
      ws.send(payload);
      ws.send(PROBE);
    });
    ws.on('message', (data: ArrayBuffer) => {
      const bytes = new Uint8Array(data);
      if (bytes[0] === 0 && bytes[1] === 1) {
        clearTimeout(timer);
        ws.close();
        resolve(0);
      }
    });
    ws.on('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** Rebuild the stored document row by row: every stored row must apply cleanly. */
async function storedDoc(name: string): Promise<Y.Doc> {
  const rows = await server.app.stores.docs.loadContent(docRef(name));
  const doc = new Y.Doc();
  if (rows.state) Y.applyUpdate(doc, rows.state);
  for (const u of rows.updates) Y.applyUpdate(doc, u.update);
  return doc;
}

/** Real updates from a scratch document, to mutate. */
function sampleUpdates(random: () => number, n: number): Uint8Array[] {
  const doc = new Y.Doc();
  const out: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => out.push(u));
  const text = doc.getText('fz');
  const map = doc.getMap('fzm');
  const arr = doc.getArray('fza');
  for (let i = 0; i < n; i++) {
    const r = random();
    if (r < 0.4) text.insert(Math.floor(random() * (text.length + 1)), `t${i}`);
    else if (r < 0.55 && text.length > 2) text.delete(0, 2);
    else if (r < 0.7) text.format(0, Math.min(3, text.length), { bold: random() < 0.5 ? true : null });
    else if (r < 0.85) map.set(`k${i % 7}`, { n: i, s: 'x'.repeat(i % 13) });
    else arr.insert(0, [i, new Uint8Array([i & 255]), null, [i]]);
  }
  doc.destroy();
  return out;
}

describe('hostile input on /yjs', () => {
  it('survives fuzzed frames and keeps the stored document intact', async () => {
    const name = 'fuzz-target';
    const t = await server.token({ name: 'Good' });
    const evil = await server.token({ name: 'Evil' });
    const good = openDoc(server.url, name, t);
    await synced(good);
    const notes = good.doc.getText('notes');
    notes.insert(0, 'the real meeting notes');
    good.doc.getMap('meta').set('owner', 'Good');

    const random = rng(0xdecaf);
    const randomBytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
    const updates = sampleUpdates(random, 80);
    const cases: Array<[string, Uint8Array]> = [];
    for (let i = 0; i < 40; i++) cases.push(['random bytes', randomBytes(1 + Math.floor(random() * 200))]);
    cases.push(['empty frame', new Uint8Array(0)]);
    cases.push(['truncated varint type', new Uint8Array([0x80])]);
    cases.push(['truncated varint sub-type', new Uint8Array([0, 0xff, 0xff])]);
    cases.push(['varint over 53 bits', new Uint8Array([0, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])]);
    cases.push(['huge length, few bytes', msg(0, 2, 2 ** 40, { raw: randomBytes(16) })]);
    cases.push(['length past the end', msg(0, 1, 100, { raw: randomBytes(10) })]);
    cases.push(['bad state vector', msg(0, 0, { bytes: randomBytes(30) })]);
    cases.push(['unknown sync type', msg(0, 9)]);
    cases.push(['unknown message type', msg(77)]);
    cases.push(['awareness garbage', msg(1, { bytes: randomBytes(40) })]);
    cases.push(['awareness bad JSON', msg(1, { bytes: msg(1, 123, 1, '{not json') })]);
    for (let i = 0; i < 60; i++) {
      cases.push(['framed garbage update', msg(0, 2, { bytes: randomBytes(1 + Math.floor(random() * 300)) })]);
    }
    for (let i = 0; i < 80; i++) {
      const u = Uint8Array.from(updates[i % updates.length] as Uint8Array);
      const mode = i % 4;
      let mutated: Uint8Array;
      if (mode === 0)
        mutated = u.subarray(0, Math.floor(random() * u.length)); // truncated
      else if (mode === 1) {
        for (let k = 0; k < 3; k++) u[Math.floor(random() * u.length)] = Math.floor(random() * 256);
        mutated = u; // bit rot
      } else if (mode === 2)
        mutated = Uint8Array.from([...u, ...randomBytes(8)]); // trailing junk
      else {
        u[Math.floor(random() * u.length)] = 0xff; // varints that never end
        mutated = u;
      }
      cases.push(['mutated real update', msg(0, i % 2 ? 1 : 2, { bytes: mutated })]);
    }

    const outcomes = new Map<number, number>();
    for (const [what, payload] of cases) {
      const code = await sendRaw(server.url, name, evil, payload).catch((err: Error) => {
        throw new Error(`${what}: ${err.message}`);
      });
      outcomes.set(code, (outcomes.get(code) ?? 0) + 1);
      expect([0, DOC_CLOSE.MALFORMED.code, DOC_CLOSE.RELOAD.code], what).toContain(code);
    }
    // most garbage is refused as malformed
    expect(outcomes.get(DOC_CLOSE.MALFORMED.code) ?? 0).toBeGreaterThan(cases.length / 2);

    // the process still serves: health, and the good client (reconnected if its doc was reloaded) still edits
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    await until(() => good.provider.synced, { what: 'good client synced' });
    notes.insert(notes.length, ' + after the storm');
    const fresh = openDoc(server.url, name, t);
    await synced(fresh);
    await until(() => fresh.doc.getText('notes').toString() === 'the real meeting notes + after the storm', {
      doc: fresh.doc,
      what: 'good content on a fresh client',
    });
    expect(fresh.doc.getMap('meta').get('owner')).toBe('Good');

    // every stored row applies cleanly and the stored document equals what the server serves
    const stored = await storedDoc(name);
    expect(stored.getText('notes').toString()).toBe('the real meeting notes + after the storm');
    expect(Y.encodeStateVector(stored)).toEqual(Y.encodeStateVector(fresh.doc));
    stored.destroy();
  });

  it('an update that decodes but throws half-way through applying is not stored; the document reloads', async () => {
    const name = 'fuzz-halfway';
    const t = await server.token({ name: 'Good' });
    const evil = await server.token({ name: 'Evil' });
    const good = openDoc(server.url, name, t);
    await synced(good);
    good.text.insert(0, 'intact');
    const check = openDoc(server.url, name, t);
    await synced(check);
    await until(() => check.text.toString() === 'intact', { doc: check.doc });

    // client 99: item 0 in root "leak", item 1 whose parent is (99, 5) — an item that does not
    // exist. Yjs integrates item 0, then throws on item 1 (and still emits an update for item 0).
    const enc = new Y.UpdateEncoderV1();
    encoding.writeVarUint(enc.restEncoder, 1);
    encoding.writeVarUint(enc.restEncoder, 2);
    enc.writeClient(99);
    encoding.writeVarUint(enc.restEncoder, 0);
    new Y.Item(Y.createID(99, 0), null, null, null, null, 'leak' as never, null, new Y.ContentAny(['partial'])).write(
      enc,
      0,
    );
    new Y.Item(
      Y.createID(99, 1),
      null,
      null,
      null,
      null,
      Y.createID(99, 5) as never,
      null,
      new Y.ContentAny([2]),
    ).write(enc, 0);
    encoding.writeVarUint(enc.restEncoder, 0);
    const update = enc.toUint8Array();
    expect(() => Y.decodeUpdate(update)).not.toThrow();

    expect(await sendRaw(server.url, name, evil, msg(0, 2, { bytes: update }))).toBe(DOC_CLOSE.MALFORMED.code);
    // the others were told to reload (4500, not permanent) and the stock provider came back by itself
    await until(() => good.closes.some((c) => c.code === DOC_CLOSE.RELOAD.code), { what: 'reload close' });
    await until(() => good.provider.synced && check.provider.synced, { what: 'resync after reload' });
    good.text.insert(6, '!');
    await until(() => check.text.toString() === 'intact!', { doc: check.doc, what: 'editing after reload' });
    const stored = await storedDoc(name);
    expect(stored.getText('content').toString()).toBe('intact!');
    expect(stored.share.has('leak')).toBe(false);
    expect(check.doc.share.has('leak')).toBe(false);
    stored.destroy();
  });

  it('survives structure-aware fuzzing (well-formed structs with random ids, parents, origins and deletions)', async () => {
    const name = 'fuzz-structs';
    const t = await server.token({ name: 'Good' });
    const evil = await server.token({ name: 'Evil' });
    const good = openDoc(server.url, name, t);
    await synced(good);
    good.doc.getText('notes').insert(0, 'keep me');
    const random = rng(0xbadf00d);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
    const clients = [11, 12, 13];
    const roots = ['fa', 'fb', 'fc'];
    const id = () => Y.createID(pick(clients), Math.floor(random() * 6));
    const content = () =>
      pick([
        () => new Y.ContentAny([Math.floor(random() * 100)]),
        () => new Y.ContentString('s'.repeat(1 + Math.floor(random() * 3))),
        () => new Y.ContentDeleted(1 + Math.floor(random() * 3)),
        () => new Y.ContentFormat('bold', (random() < 0.5 ? true : null) as never),
        () =>
          new Y.ContentType(
            pick([() => new Y.Map(), () => new Y.Array(), () => new Y.Text(), () => new Y.XmlElement('p')])(),
          ),
        () => new Y.ContentEmbed({ e: 1 }),
        () => new Y.ContentBinary(new Uint8Array([1, 2])),
      ])();
    let outcomes = 0;
    for (let i = 0; i < 150; i++) {
      const enc = new Y.UpdateEncoderV1();
      const perClient = new Map<number, Y.Item[]>();
      const n = 1 + Math.floor(random() * 4);
      for (let k = 0; k < n; k++) {
        const client = pick(clients);
        const list = perClient.get(client) ?? [];
        const clock =
          list.length === 0
            ? Math.floor(random() * 3)
            : (list.at(-1) as Y.Item).id.clock + (list.at(-1) as Y.Item).length;
        const parent = random() < 0.5 ? pick(roots) : id();
        const item = new Y.Item(
          Y.createID(client, clock),
          null,
          random() < 0.5 ? id() : null,
          null,
          random() < 0.3 ? id() : null,
          parent as never,
          random() < 0.3 ? pick(['x', 'y']) : null,
          content(),
        );
        list.push(item);
        perClient.set(client, list);
      }
      encoding.writeVarUint(enc.restEncoder, perClient.size);
      for (const [client, items] of perClient) {
        encoding.writeVarUint(enc.restEncoder, items.length);
        enc.writeClient(client);
        encoding.writeVarUint(enc.restEncoder, (items[0] as Y.Item).id.clock);
        for (const item of items) item.write(enc, 0);
      }
      // delete set: random ranges of the fuzz clients
      const dsClients = random() < 0.5 ? [pick(clients)] : [];
      encoding.writeVarUint(enc.restEncoder, dsClients.length);
      for (const c of dsClients) {
        enc.resetDsCurVal();
        encoding.writeVarUint(enc.restEncoder, c);
        encoding.writeVarUint(enc.restEncoder, 1);
        enc.writeDsClock(Math.floor(random() * 6));
        enc.writeDsLen(1 + Math.floor(random() * 4));
      }
      let update: Uint8Array;
      try {
        update = enc.toUint8Array();
      } catch {
        continue;
      }
      const code = await sendRaw(server.url, name, evil, msg(0, 2, { bytes: update }));
      expect([0, DOC_CLOSE.MALFORMED.code, DOC_CLOSE.RELOAD.code]).toContain(code);
      outcomes++;
    }
    expect(outcomes).toBeGreaterThan(100);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    await until(() => good.provider.synced, { what: 'good client back' });
    good.doc.getText('notes').insert(7, '!');
    const fresh = openDoc(server.url, name, t);
    await synced(fresh);
    await until(() => fresh.doc.getText('notes').toString() === 'keep me!', { doc: fresh.doc, what: 'notes intact' });
    const stored = await storedDoc(name);
    expect(stored.getText('notes').toString()).toBe('keep me!');
    // a document loaded from storage equals what the server serves
    const reloaded = new Y.Doc();
    Y.applyUpdate(reloaded, Y.encodeStateAsUpdate(stored));
    expect(Y.encodeStateVector(reloaded)).toEqual(Y.encodeStateVector(stored));
    stored.destroy();
    reloaded.destroy();
  });

  it('refuses oversized messages with 4413 (and far oversized ones at the socket) without storing them', async () => {
    const name = 'fuzz-big';
    const t = await server.token({ name: 'Big' });
    const good = openDoc(server.url, name, t);
    await synced(good);
    good.text.insert(0, 'small');
    const big = new Y.Doc();
    big.getText('content').insert(0, 'x'.repeat(MAX_UPDATE * 2));
    const bigFrame = msg(0, 2, { bytes: Y.encodeStateAsUpdate(big) });
    expect(await sendRaw(server.url, name, t, bigFrame)).toBe(DOC_CLOSE.TOO_LARGE.code);
    const huge = new Uint8Array(MAX_UPDATE + 200 * 1024);
    expect(await sendRaw(server.url, name, t, huge)).toBe(1009);

    // the stock provider: an oversized local change closes it with 4413, and nothing is stored
    const writer = openDoc(server.url, name, t);
    await synced(writer);
    await until(() => writer.text.toString() === 'small', { doc: writer.doc });
    const closed = closedWith(writer);
    writer.text.insert(0, 'y'.repeat(MAX_UPDATE + 10));
    expect((await closed).code).toBe(DOC_CLOSE.TOO_LARGE.code);
    good.text.insert(5, '!');
    const check = openDoc(server.url, name, t);
    await synced(check);
    await until(() => check.text.toString() === 'small!', {
      doc: check.doc,
      what: 'stored content without the oversized change',
    });
    big.destroy();
  });

  it('caps the stored size of a document (MOIM_DOC_MAX_BYTES) with 4413', async () => {
    const capped = await startTestServer({ MOIM_DOC_MAX_BYTES: '20000', MOIM_DOC_MAX_UPDATE_BYTES: '8192' });
    try {
      const t = await capped.token({ name: 'Filler' });
      const w = openDoc(capped.url, 'capped', t);
      await synced(w);
      const closed = closedWith(w);
      for (let i = 0; i < 12 && w.provider.wsconnected; i++) {
        w.text.insert(w.text.length, String(i % 10).repeat(3000));
        await new Promise((r) => setImmediate(r));
      }
      expect((await closed).code).toBe(DOC_CLOSE.TOO_LARGE.code);
      // the last client left: the document unloads once its writes are committed
      await until(() => capped.app.docs.loadedCount === 0, { what: 'unload' });
      const rows = await capped.app.stores.docs.loadContent(docRef('capped'));
      const bytes = (rows.state?.byteLength ?? 0) + rows.updates.reduce((n, u) => n + u.update.byteLength, 0);
      expect(bytes).toBeLessThanOrEqual(20000);
      expect(rows.updates.length).toBeGreaterThan(0);
    } finally {
      destroyAllClients();
      await capped.close();
    }
  });
});

describe('classes of attack from issue 11', () => {
  it('prototype-named documents take fuzzed frames like any other, and stay normal documents', async () => {
    const random = rng(0x9e3779b9);
    const t = await server.token({ name: 'Proto' });
    const updates = sampleUpdates(random, 20);
    for (const name of PROTOTYPE_NAMES) {
      const expected = docNameSchema.safeParse(name).success
        ? [0, DOC_CLOSE.MALFORMED.code, DOC_CLOSE.RELOAD.code]
        : [DOC_CLOSE.NOT_FOUND.code];
      const payloads = [
        msg(0, 2, { bytes: updates[Math.floor(random() * updates.length)] as Uint8Array }),
        msg(0, 2, { bytes: Uint8Array.from({ length: 40 }, () => Math.floor(random() * 256)) }),
        msg(1, { bytes: msg(1, 1 + Math.floor(random() * 1000), 1, JSON.stringify({ user: { name } })) }),
        msg(0, 0, { bytes: Y.encodeStateVector(new Y.Doc()) }),
        msg(Math.floor(random() * 8)),
      ];
      for (const payload of payloads) expect(expected, name).toContain(await sendRaw(server.url, name, t, payload));
    }
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const c = openDoc(server.url, 'hasOwnProperty', t);
    await synced(c);
    c.text.insert(0, 'still a document');
    const d = openDoc(server.url, 'hasOwnProperty', t);
    await synced(d);
    await until(() => d.text.toString().includes('still a document'), { doc: d.doc, what: 'proto doc edits' });
  });

  it('prototype names and malformed escapes in every /docs route parameter and query never give a 500', async () => {
    const random = rng(0x51ed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
    const admin = await server.token({ name: 'Admin', role: 'admin', org: 'fuzz-http' });
    const narrow = await server.token({ name: 'Narrow', org: 'fuzz-http', grants: { docs: { valueOf: ['read'] } } });
    for (const name of ['constructor', 'valueOf', 'toString']) await api(server, 'POST', '/docs', admin, { name });
    const routes = server.app.router.routes().filter((r) => r.pattern === '/docs' || r.pattern.startsWith('/docs/'));
    const names = [...PROTOTYPE_NAMES, ...MALFORMED_ESCAPES, 'constructor%00', 'a'.repeat(200), 'ok-name'];
    const ids = [...PROTOTYPE_NAMES, ...MALFORMED_ESCAPES, '1', '-1', '1e3', '9007199254740993', '0x10'];
    const queryKeys = ['after', 'limit', 'format', 'before', ...PROTOTYPE_NAMES];
    const queryValues = [...PROTOTYPE_NAMES, ...MALFORMED_ESCAPES, '', '0', '501', 'json', 'text'];
    const statuses = new Map<number, number>();
    for (let i = 0; i < 300; i++) {
      const { method, pattern } = pick(routes);
      const path = pattern
        .replace(':name', () => {
          const n = pick(names);
          return (MALFORMED_ESCAPES as readonly string[]).includes(n) ? n : encodeURIComponent(n);
        })
        .replace(':id', () => pick(ids));
      const query = Array.from(
        { length: Math.floor(random() * 3) },
        () => `${encodeURIComponent(pick(queryKeys))}=${pick(queryValues)}`,
      ).join('&');
      const body = pick([
        undefined,
        { name: pick(PROTOTYPE_NAMES) },
        { label: pick(PROTOTYPE_NAMES) },
        { exportAllowed: true },
        JSON.parse('{"__proto__":{"admin":true},"name":"valueOf"}'),
      ]);
      const res = await api<{ error?: { code: string } }>(
        server,
        method,
        `${path}${query ? `?${query}` : ''}`,
        pick([admin, narrow]),
        method === 'GET' ? undefined : body,
      );
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      expect(res.status, `${method} ${path}?${query}`).toBeLessThan(500);
    }
    expect(statuses.size).toBeGreaterThan(2);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('pending-dependency updates (ahead of the state vector, with gaps, on unknown clients) are refused, never kept', async () => {
    const name = 'fuzz-pending';
    const t = await server.token({ name: 'Good' });
    const good = openDoc(server.url, name, t);
    await synced(good);
    good.text.insert(0, 'base');
    const random = rng(0xfeed);
    const outcomes = new Map<number, number>();
    let applied = 0;
    for (let i = 0; i < 80; i++) {
      // a chain of changes of one client; send a random selection of its updates, merged (gaps) or not
      const src = new Y.Doc();
      src.clientID = 20_000 + i;
      const chain: Uint8Array[] = [];
      src.on('update', (u: Uint8Array) => chain.push(u));
      const text = src.getText(random() < 0.5 ? 'side' : 'side2');
      for (let k = 0; k < 2 + Math.floor(random() * 5); k++) text.insert(text.length, `p${k}`);
      const picked = chain.filter(() => random() < 0.6);
      if (picked.length === 0) picked.push(chain.at(-1) as Uint8Array);
      const complete = picked.length === chain.length;
      const update = random() < 0.5 ? Y.mergeUpdates(picked) : (picked.at(-1) as Uint8Array);
      const whole = complete && (picked.length === 1 || update !== picked.at(-1));
      const code = await sendRaw(server.url, name, t, msg(0, 2, { bytes: update }));
      outcomes.set(code, (outcomes.get(code) ?? 0) + 1);
      expect([0, DOC_CLOSE.MALFORMED.code]).toContain(code);
      const doc = await server.app.docs.loaded(docRef(name));
      expect(doc?.ydoc.store.pendingStructs ?? null).toBeNull();
      expect(doc?.ydoc.store.pendingDs ?? null).toBeNull();
      // a whole chain from clock 0 applies; anything with a hole leaves the document without it
      const have = doc ? Y.getState(doc.ydoc.store, src.clientID) : 0;
      if (whole) {
        expect(have, `chain ${i}`).toBe(Y.getState(src.store, src.clientID));
        applied++;
      } else if (picked[0] !== chain[0]) expect(have, `chain ${i}`).toBe(0);
      src.destroy();
    }
    expect(applied).toBeGreaterThan(0);
    expect(outcomes.get(0)).toBe(80); // one refusal per connection: never cut off for that alone
    await until(() => good.provider.synced, { what: 'good client' });
    good.text.insert(4, '!');
    const fresh = openDoc(server.url, name, t);
    await synced(fresh);
    await until(() => fresh.text.toString() === 'base!', { doc: fresh.doc, what: 'good content' });
  });

  it('oversized awareness states and Yjs updates around the caps: refused with 4413 exactly above them', async () => {
    const name = 'fuzz-sizes';
    const t = await server.token({ name: 'Sizes' });
    const random = rng(0x5123);
    for (let i = 0; i < 30; i++) {
      // awareness: a state whose JSON is `size` bytes
      const size = MAX_AWARENESS - 64 + Math.floor(random() * 128);
      const json = JSON.stringify({ p: 'x'.repeat(size - 8) });
      expect(Buffer.byteLength(json)).toBe(size);
      const frame = msg(1, { bytes: msg(1, 30_000 + i, 1, json) });
      const code = await sendRaw(server.url, name, t, frame);
      expect(code, `awareness state of ${size} bytes`).toBe(size > MAX_AWARENESS ? DOC_CLOSE.TOO_LARGE.code : 0);
    }
    for (let i = 0; i < 20; i++) {
      // a Yjs update message of about the cap
      const src = new Y.Doc();
      src.getText('content').insert(0, 'y'.repeat(MAX_UPDATE - 80 + Math.floor(random() * 160)));
      const frame = msg(0, 2, { bytes: Y.encodeStateAsUpdate(src) });
      src.destroy();
      const code = await sendRaw(server.url, name, t, frame);
      expect(code, `update message of ${frame.byteLength} bytes`).toBe(
        frame.byteLength > MAX_UPDATE ? DOC_CLOSE.TOO_LARGE.code : 0,
      );
    }
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});
