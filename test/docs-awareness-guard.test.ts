import { DOC_CLOSE } from '@moim/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';
import {
  type DocClient,
  destroyAllClients,
  destroyAllRaw,
  frames,
  openDoc,
  openRaw,
  type RawDocSocket,
  synced,
  until,
} from './docs-support.ts';

/**
 * Issue 11, item 6: awareness was neither checked nor bounded. A read-only client updated another
 * user's awareness state ("Alice (spoofed…)"), and one client sent 40 states of 900 KB (readers
 * received 343 MiB). Now a connection sets only the awareness of the client ids it introduced
 * (a read-only one: only its own), the number of ids per connection is bounded, and a state over
 * MOIM_DOC_AWARENESS_MAX_BYTES closes the connection with 4413.
 */

const MAX_STATE = 8192;
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    MOIM_DOC_AWARENESS_MAX_BYTES: String(MAX_STATE),
    MOIM_DOC_AWARENESS_MAX_CLIENTS: '2',
  });
});
afterAll(() => server.close());
afterEach(() => {
  destroyAllClients();
  destroyAllRaw();
});

type UserState = { user?: { name?: string } } | undefined;
const nameAt = (seer: DocClient, id: number): string | undefined =>
  (seer.provider.awareness.getStates().get(id) as UserState)?.user?.name;
const clockAt = (seer: DocClient, id: number): number => seer.provider.awareness.meta.get(id)?.clock ?? 0;

/** Wait until `raw`'s own marker state (id, name) is seen by `seer`: every earlier frame of `raw` was handled. */
async function marker(raw: RawDocSocket, seer: DocClient, id: number, clock: number, name: string): Promise<void> {
  raw.send(frames.awareness([{ id, clock, state: { user: { name } } }]));
  await until(() => nameAt(seer, id) === name, { what: `marker ${name}` });
}

describe('awareness is checked and bounded (issue 11, item 6)', () => {
  it('a read-only client cannot set or remove another user’s state; it may set its own, one id only', async () => {
    const doc = 'aw-spoof';
    const alice = openDoc(server.url, doc, await server.token({ name: 'Alice' }));
    const watcher = openDoc(server.url, doc, await server.token({ name: 'Watcher' }));
    await Promise.all([synced(alice), synced(watcher)]);
    alice.provider.awareness.setLocalStateField('user', { name: 'Alice' });
    const aliceId = alice.doc.clientID;
    await until(() => nameAt(watcher, aliceId) === 'Alice', { what: 'Alice seen' });

    const reader = openRaw(
      server.url,
      doc,
      await server.token({ name: 'Reader', grants: { docs: { [doc]: ['read'] } } }),
    );
    await reader.opened;
    const clock = clockAt(watcher, aliceId);
    reader.send(frames.awareness([{ id: aliceId, clock: clock + 10, state: { user: { name: 'Alice (spoofed)' } } }]));
    // its own state is allowed (and proves the frame above was handled)
    await marker(reader, watcher, 777_001, 1, 'Reader');
    expect(nameAt(watcher, aliceId)).toBe('Alice');
    expect(nameAt(alice, aliceId)).toBe('Alice');
    // nor can it remove Alice's state
    reader.send(frames.awareness([{ id: aliceId, clock: clock + 11, state: null }]));
    await marker(reader, watcher, 777_001, 2, 'Reader 2');
    expect(nameAt(watcher, aliceId)).toBe('Alice');
    expect(clockAt(watcher, aliceId)).toBe(clock);
    // a second id of the read-only connection is refused
    reader.send(frames.awareness([{ id: 777_002, clock: 1, state: { user: { name: 'Second' } } }]));
    await marker(reader, watcher, 777_001, 3, 'Reader again');
    expect(watcher.provider.awareness.getStates().has(777_002)).toBe(false);
    // Alice herself still changes her state
    alice.provider.awareness.setLocalStateField('user', { name: 'Alice 2' });
    await until(() => nameAt(watcher, aliceId) === 'Alice 2', { what: 'Alice changes her own' });
  });

  it('a writer cannot take over another person’s id; the same person’s new connection can (a reconnect)', async () => {
    const doc = 'aw-owner';
    const watcher = openDoc(server.url, doc, await server.token({ name: 'Watcher' }));
    await synced(watcher);
    const aliceToken = await server.token({ name: 'Alice', sub: 'alice' });
    const first = openRaw(server.url, doc, aliceToken);
    const bob = openRaw(server.url, doc, await server.token({ name: 'Bob', sub: 'bob' }));
    await Promise.all([first.opened, bob.opened]);
    await marker(first, watcher, 4242, 1, 'Alice');
    bob.send(frames.awareness([{ id: 4242, clock: 5, state: { user: { name: 'Alice (by Bob)' } } }]));
    await marker(bob, watcher, 4343, 1, 'Bob');
    expect(nameAt(watcher, 4242)).toBe('Alice');

    // Alice reconnects before her old socket is found dead: her new connection takes the id over…
    const second = openRaw(server.url, doc, aliceToken);
    await second.opened;
    await marker(second, watcher, 4242, 2, 'Alice, reconnected');
    // …and her old connection closing does not remove the state the new one owns
    first.ws.close();
    await first.closed;
    await new Promise((r) => setTimeout(r, 200));
    expect(nameAt(watcher, 4242)).toBe('Alice, reconnected');
    // while Bob's connection closing removes Bob's
    bob.ws.close();
    await until(() => !watcher.provider.awareness.getStates().has(4343), { what: 'Bob removed' });
  });

  it('a connection introduces at most MOIM_DOC_AWARENESS_MAX_CLIENTS ids', async () => {
    const doc = 'aw-many';
    const watcher = openDoc(server.url, doc, await server.token({ name: 'Watcher' }));
    await synced(watcher);
    const raw = openRaw(server.url, doc, await server.token({ name: 'Many' }));
    await raw.opened;
    raw.send(
      frames.awareness(
        Array.from({ length: 10 }, (_, i) => ({ id: 9100 + i, clock: 1, state: { user: { name: `n${i}` } } })),
      ),
    );
    await until(() => nameAt(watcher, 9100) === 'n0' && nameAt(watcher, 9101) === 'n1', { what: 'two ids' });
    await marker(raw, watcher, 9100, 2, 'still mine');
    const ids = [...watcher.provider.awareness.getStates().keys()].filter((id) => id >= 9100 && id < 9200);
    expect(ids.sort()).toEqual([9100, 9101]);
  });

  it('the reproduction: 40 states of 900 KB close the sender with 4413 and readers receive none of them', async () => {
    const doc = 'aw-big';
    const reader = openRaw(
      server.url,
      doc,
      await server.token({ name: 'Reader', grants: { docs: { [doc]: ['read'] } } }),
    );
    const watcher = openDoc(server.url, doc, await server.token({ name: 'Watcher' }));
    await Promise.all([reader.opened, synced(watcher)]);
    const received = () => reader.frames.reduce((n, f) => n + f.byteLength, 0);
    const before = received();

    const big = openRaw(server.url, doc, await server.token({ name: 'Big' }));
    await big.opened;
    for (let i = 0; i < 40; i++)
      big.send(
        frames.awareness([{ id: 5500 + i, clock: 1, state: { user: { name: 'x' }, pad: 'x'.repeat(900_000) } }]),
      );
    const closed = await big.closed;
    expect(closed.code).toBe(DOC_CLOSE.TOO_LARGE.code);
    expect(closed.reason).toContain('awareness state');

    // a state at the cap is still fine
    const ok = openRaw(server.url, doc, await server.token({ name: 'Fits' }));
    await ok.opened;
    await marker(ok, watcher, 5600, 1, 'y'.repeat(MAX_STATE - 40));
    expect(received() - before).toBeLessThan(64 * 1024);
    expect(watcher.provider.awareness.getStates().has(5500)).toBe(false);
    // a later joiner gets a small awareness message on connect
    const late = openRaw(server.url, doc, await server.token({ name: 'Late' }));
    await late.opened;
    await until(() => late.frames.length >= 2, { what: 'late joiner greeted' });
    expect(late.frames.reduce((n, f) => n + f.byteLength, 0)).toBeLessThan(64 * 1024);
  });
});
