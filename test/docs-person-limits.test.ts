import { DOC_CLOSE } from '@moim/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';
import { destroyAllClients, destroyAllRaw, openDoc, openRaw, synced, until } from './docs-support.ts';

/**
 * Issue 11, item 9 (documents): one person opened 2,000 `/yjs` connections to one document and
 * every one was accepted. A person now has at most MOIM_DOC_MAX_CONNECTIONS_PER_PERSON `/yjs`
 * connections open (over all documents); the next is closed with 4429 `TOO_MANY_CONNECTIONS`.
 */

const MAX = 5;
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ MOIM_DOC_MAX_CONNECTIONS_PER_PERSON: String(MAX) });
});
afterAll(() => server.close());
afterEach(() => {
  destroyAllClients();
  destroyAllRaw();
});

describe('per-person /yjs connection cap (issue 11, item 9)', () => {
  it('the reproduction scaled down: 50 connections of one person to one document, 5 accepted', async () => {
    const tok = await server.token({ name: 'Flood', sub: 'flood' });
    const sockets = Array.from({ length: 50 }, () => openRaw(server.url, 'crowded', tok));
    // accepted: greeted with sync step 1 (code 0 here); refused: closed at once
    const outcomes = await Promise.all(
      sockets.map(
        (s) =>
          new Promise<{ code: number; reason: string }>((resolve) => {
            s.ws.once('message', () => resolve({ code: 0, reason: '' }));
            void s.closed.then(resolve);
          }),
      ),
    );
    const accepted = outcomes.filter((o) => o.code === 0).length;
    const refused = outcomes.filter((o) => o.code === 4429);
    expect(accepted).toBe(MAX);
    expect(refused).toHaveLength(50 - MAX);
    for (const r of refused) expect(r.reason).toContain('TOO_MANY_CONNECTIONS');
    expect(server.app.docs.connectionsOf('default', 'flood')).toBe(MAX);

    // someone else is not affected
    const other = openDoc(server.url, 'crowded', await server.token({ name: 'Other' }));
    await synced(other);
    // the cap counts every document of the person, and frees a place when a connection closes
    const elsewhere = openRaw(server.url, 'another-doc', tok);
    expect((await elsewhere.closed).code).toBe(4429);
    const open = sockets.filter((_, i) => outcomes[i]?.code === 0);
    open[0]?.ws.close();
    await until(() => server.app.docs.connectionsOf('default', 'flood') === MAX - 1, { what: 'a place freed' });
    const again = openDoc(server.url, 'another-doc', tok);
    await synced(again);
    expect(server.app.docs.connectionsOf('default', 'flood')).toBe(MAX);
    expect(DOC_CLOSE.TOO_MANY_DOCUMENTS.code).toBe(4429);
  });

  it('the same sub in another organisation is another person', async () => {
    const acme = await server.token({ name: 'Same', sub: 'same', org: 'acme' });
    const evil = await server.token({ name: 'Same', sub: 'same', org: 'evil' });
    const mine = Array.from({ length: MAX }, () => openDoc(server.url, 'shared-name', acme));
    await Promise.all(mine.map(synced));
    const theirs = openDoc(server.url, 'shared-name', evil);
    await synced(theirs);
    expect(server.app.docs.connectionsOf('acme', 'same')).toBe(MAX);
    expect(server.app.docs.connectionsOf('evil', 'same')).toBe(1);
  });
});
