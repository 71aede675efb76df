import { DOC_CLOSE, docNameSchema } from '@moim/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';
import {
  api,
  closedWith,
  destroyAllClients,
  destroyAllRaw,
  docRef,
  openDoc,
  openRaw,
  synced,
  until,
} from './docs-support.ts';
import { PROTOTYPE_NAMES } from './support/hostile.ts';

/**
 * Issue 11, item 2 (documents): `/yjs/constructor?token=…` (also `toString`, `valueOf`,
 * `hasOwnProperty`) found `Object.prototype` members through `grants.docs[name]` and a TypeError in
 * the upgrade listener stopped the process; over HTTP the same names gave 500. Names people choose
 * are now looked up in Maps or as own properties only, and nothing thrown while a `/yjs` socket is
 * taken over escapes.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());
afterEach(() => {
  destroyAllClients();
  destroyAllRaw();
});

const valid = PROTOTYPE_NAMES.filter((n) => docNameSchema.safeParse(n).success);
const invalid = PROTOTYPE_NAMES.filter((n) => !docNameSchema.safeParse(n).success);

describe('documents named after Object.prototype members', () => {
  it('each is a normal document over /yjs, with wildcard and with specific grants; the server keeps serving', async () => {
    expect(valid).toContain('constructor');
    const wildcard = await server.token({ name: 'Proto' });
    for (const name of valid) {
      const a = openDoc(server.url, name, wildcard);
      const b = openDoc(server.url, name, wildcard);
      await Promise.all([synced(a), synced(b)]);
      a.text.insert(0, `text of ${name}`);
      await until(() => b.text.toString() === `text of ${name}`, { doc: b.doc, what: name });
    }
    // a token with one specific grant: the prototype name is not granted (4403), not a crash
    const narrow = await server.token({ name: 'Narrow', grants: { docs: { notes: ['read', 'write'] } } });
    for (const name of valid) {
      const c = openDoc(server.url, name, narrow);
      expect((await closedWith(c)).code, name).toBe(DOC_CLOSE.FORBIDDEN.code);
    }
    // names the schema refuses (`__proto__`) close with 4404
    for (const name of invalid) {
      const raw = openRaw(server.url, name, wildcard);
      expect((await raw.closed).code, name).toBe(DOC_CLOSE.NOT_FOUND.code);
    }
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('every /docs route answers prototype names in the path, the version id and the query without a 500', async () => {
    // an organisation of its own: the documents of the test above are another namespace
    const admin = await server.token({ name: 'Admin', role: 'admin', org: 'http' });
    const narrow = await server.token({ name: 'Narrow', org: 'http', grants: { docs: { other: ['read'] } } });
    const routes = server.app.router.routes().filter((r) => r.pattern === '/docs' || r.pattern.startsWith('/docs/'));
    expect(routes.length).toBeGreaterThanOrEqual(10);
    for (const name of PROTOTYPE_NAMES) {
      const created = await api(server, 'POST', '/docs', admin, { name });
      expect(created.status, `create ${name}`).toBe(valid.includes(name as never) ? 201 : 400);
      const version = valid.includes(name as never)
        ? (await api<{ version: { id: number } }>(server, 'POST', `/docs/${name}/versions`, admin, { label: 'v' })).body
            .version.id
        : 1;
      for (const { method, pattern } of routes) {
        const bodies: Record<string, unknown> = {
          'POST /docs': { name },
          'PATCH /docs/:name': { exportAllowed: true },
          'PUT /docs/:name/title': { title: name },
          'POST /docs/:name/versions': { label: name },
        };
        for (const [who, tok] of [
          ['admin', admin],
          ['narrow', narrow],
        ] as const) {
          for (const id of [String(version), ...PROTOTYPE_NAMES]) {
            if (pattern === '/docs/:name' && method === 'DELETE') continue; // deleted at the end
            const path = pattern.replace(':name', encodeURIComponent(name)).replace(':id', encodeURIComponent(id));
            const res = await api<{ error?: { code: string } }>(
              server,
              method,
              path,
              tok,
              bodies[`${method} ${pattern}`],
            );
            expect(res.status, `${who} ${method} ${path}`).toBeLessThan(500);
            if (res.status >= 400) expect(res.body.error?.code, `${who} ${method} ${path}`).toBeTypeOf('string');
            if (!pattern.includes(':id')) break;
          }
        }
      }
      // query parameters named after prototype members
      for (const query of ['after', 'limit', 'format', 'before']) {
        for (const value of PROTOTYPE_NAMES) {
          for (const path of [
            '/docs',
            `/docs/${encodeURIComponent(name)}/export`,
            `/docs/${encodeURIComponent(name)}/versions`,
          ]) {
            const res = await api(server, 'GET', `${path}?${query}=${encodeURIComponent(value)}`, admin);
            expect(res.status, `${path}?${query}=${value}`).toBeLessThan(500);
          }
        }
      }
      const deleted = await api(server, 'DELETE', `/docs/${encodeURIComponent(name)}`, admin);
      expect(deleted.status, `delete ${name}`).toBe(valid.includes(name as never) ? 200 : 404);
    }
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('nothing thrown while a socket is taken over escapes: it is closed with 1011 and logged', async () => {
    // a socket whose every listener registration throws (the first thing accept() does)
    let closedWithCode: number | undefined;
    let terminated = false;
    const hostile = {
      readyState: 1,
      OPEN: 1,
      on() {
        throw new TypeError('listener registration failed');
      },
      close(code: number) {
        closedWithCode = code;
      },
      terminate() {
        terminated = true;
      },
    } as unknown as WebSocket;
    expect(() => server.app.docs.accept(hostile, '/yjs/constructor?token=x')).not.toThrow();
    expect(closedWithCode).toBe(1011);
    expect(terminated).toBe(false);

    // a URL that the URL parser refuses
    let code2: number | undefined;
    const plain = {
      readyState: 1,
      OPEN: 1,
      on() {
        return this;
      },
      close(code: number) {
        code2 = code;
      },
      terminate() {},
    } as unknown as WebSocket;
    expect(() => server.app.docs.accept(plain, '//[::1')).not.toThrow();
    expect(code2).toBe(1011);
    expect(server.app.docs.connectionsOf('default', 'nobody')).toBe(0);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    // and the documents still work
    const c = openDoc(server.url, 'valueOf', await server.token({ name: 'After' }));
    await synced(c);
    expect(await server.app.stores.docs.get(docRef('valueOf'))).toBeDefined();
  });
});
