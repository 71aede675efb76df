import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';
import { type DocClient, destroyAllClients, openDoc, synced, token, until } from './docs-support.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());
afterEach(() => destroyAllClients());

/** Count the awareness frames a stock provider receives (it still handles them as usual). */
function countAwarenessFrames(c: DocClient): { frames: number } {
  const counter = { frames: 0 };
  const handlers = c.provider.messageHandlers;
  const stock = handlers[1];
  if (!stock) throw new Error('the provider has no awareness handler');
  handlers[1] = (...args) => {
    counter.frames++;
    stock(...args);
  };
  return counter;
}

type Cursor = { cursor?: { head: number } } | undefined;
const headOf = (seenBy: DocClient, of: DocClient): number | undefined =>
  (seenBy.provider.awareness.getStates().get(of.doc.clientID) as Cursor)?.cursor?.head;

describe('awareness relay with stock WebsocketProviders', () => {
  it('merges an awareness storm into fewer messages; everyone, read-only too, sees every state and every removal', async () => {
    const n = 8;
    const tokens = await Promise.all(Array.from({ length: n }, (_, i) => token(server, `P${i}`)));
    const readOnly = await token(server, 'Watcher', { storm: ['read'] });
    const people = tokens.map((t) => openDoc(server.url, 'storm', t));
    const watcher = openDoc(server.url, 'storm', readOnly);
    await Promise.all([...people, watcher].map(synced));
    const frames = countAwarenessFrames(watcher);

    // everyone announces a cursor in the same tick (a reconnect wave)
    for (const [i, p] of people.entries()) p.provider.awareness.setLocalStateField('cursor', { anchor: i, head: i });
    const allSee = (head: (i: number) => number) => () =>
      [...people, watcher].every((seer) => people.every((p, i) => seer === p || headOf(seer, p) === head(i)));
    await until(
      allSee((i) => i),
      { what: 'every cursor at every client' },
    );
    // one merged message per flush instead of one per client
    expect(frames.frames).toBeGreaterThan(0);
    expect(frames.frames).toBeLessThan(n);

    // a change right after is relayed promptly, merged the same way
    for (const [i, p] of people.entries())
      p.provider.awareness.setLocalStateField('cursor', { anchor: i, head: i + 100 });
    await until(
      allSee((i) => i + 100),
      { what: 'every moved cursor at every client' },
    );

    // a renewal (the same state announced again, as providers do every 15 s) is relayed too
    const renewer = people[0] as DocClient;
    const clockAt = (c: DocClient) => c.provider.awareness.meta.get(renewer.doc.clientID)?.clock ?? -1;
    const before = clockAt(watcher);
    renewer.provider.awareness.setLocalState(renewer.provider.awareness.getLocalState());
    await until(() => clockAt(watcher) > before, { what: 'renewal at the read-only client' });

    // a client leaving: its state goes away at everyone else, the read-only client included
    const leaver = people[n - 1] as DocClient;
    const leaverId = leaver.doc.clientID;
    leaver.destroy();
    await until(
      () => [...people.slice(0, n - 1), watcher].every((c) => !c.provider.awareness.getStates().has(leaverId)),
      { what: 'removal everywhere' },
    );
  });

  it('a lone client gets its own awareness echoed (the provider treats it as a sign of life)', async () => {
    const a = openDoc(server.url, 'lone', await token(server, 'Lone'));
    await synced(a);
    const frames = countAwarenessFrames(a);
    a.provider.awareness.setLocalStateField('user', { name: 'Lone' });
    await until(() => frames.frames > 0, { what: 'echo' });
  });
});
