import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ MOIM_MAX_BODY_BYTES: '2048' });
});
afterAll(() => server.close());

const post = (path: string, body: string) =>
  fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('HTTP edge', () => {
  it('validates the dev sign-in body with INVALID_PAYLOAD', async () => {
    for (const body of [
      '{',
      '[]',
      '{"name":""}',
      '{"name":"A","site":"HQ!","role":"member"}',
      '{"name":"A","site":"hq","role":"king"}',
      '{"name":"A","site":"hq","role":"member","evil":1}',
    ]) {
      const res = await post('/auth/dev-token', body);
      expect(res.status, body).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: 'INVALID_PAYLOAD' } });
    }
  });

  it('refuses an oversized body with PAYLOAD_TOO_LARGE', async () => {
    const res = await post('/auth/dev-token', JSON.stringify({ name: 'x'.repeat(5000) }));
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
  });

  it('answers unknown paths and methods with codes', async () => {
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/healthz`, { method: 'DELETE' })).status).toBe(405);
  });

  it('records dev sign-ins in the audit log', async () => {
    await server.token({ name: 'Audited' });
    const entries = await server.app.stores.audit.list({ action: 'auth.dev-token', limit: 100 });
    expect(entries.length).toBeGreaterThan(0);
  });
});
