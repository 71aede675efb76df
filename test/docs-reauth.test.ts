import { DOC_CLOSE } from '@moim/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestServer, type TestServer } from '../server/src/testing/index.ts';
import { openDoc, until } from './docs-support.ts';

/**
 * Issue 11 item 7 (documents): a person who refreshes their socket.io token with fewer document
 * rights loses the /yjs connections the new token no longer allows at once, not at the old token's
 * expiry. Other people's connections, and documents still allowed, stay open.
 */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe('documents follow a refreshed token', () => {
  it('closes what the new token no longer grants: 4403 for read, 4500 for write; keeps the rest', async () => {
    const full = await server.token({ name: 'Refresher', sub: 'refresher' });
    const other = await server.token({ name: 'Bystander', sub: 'bystander' });
    const secret = openDoc(server.url, 'secret-plan', full);
    const shared = openDoc(server.url, 'shared-notes', full);
    const kept = openDoc(server.url, 'public-notes', full);
    const bystander = openDoc(server.url, 'secret-plan', other);
    for (const c of [secret, shared, kept, bystander]) await until(() => c.provider.synced, { what: 'synced' });

    const socket = await server.connect(full);
    const fewer = await server.token({
      name: 'Refresher',
      sub: 'refresher',
      grants: { docs: { 'shared-notes': ['read'], 'public-notes': ['read', 'write'] } },
    });
    await call(socket, 'system:auth', { token: fewer });

    await until(() => secret.closes.length > 0, { what: 'secret-plan closed' });
    expect(secret.closes[0]!.code).toBe(DOC_CLOSE.FORBIDDEN.code);
    await until(() => shared.closes.length > 0, { what: 'shared-notes closed' });
    expect(shared.closes[0]!.code).toBe(DOC_CLOSE.RELOAD.code);
    // what is still fully allowed, and other people, are untouched
    await new Promise((r) => setTimeout(r, 200));
    expect(kept.closes).toEqual([]);
    expect(bystander.closes).toEqual([]);
    for (const c of [secret, shared, kept, bystander]) c.destroy();
  });

  it('an organisation change closes every document of the old organisation', async () => {
    const token = await server.token({ name: 'Mover', sub: 'mover' });
    const doc = openDoc(server.url, 'mover-doc', token);
    await until(() => doc.provider.synced, { what: 'synced' });
    const socket = await server.connect(token);
    await call(socket, 'system:auth', { token: await server.token({ name: 'Mover', sub: 'mover', org: 'elsewhere' }) });
    await until(() => doc.closes.length > 0, { what: 'closed' });
    expect(doc.closes[0]!.code).toBe(DOC_CLOSE.FORBIDDEN.code);
    doc.destroy();
  });
});
