import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';
import { bytesOf, channel, download, person, upload } from './attachments-support.ts';

/**
 * Issue 11, item 8: attachments had no per-person quota or rate, so one person could fill the
 * data disk. Now: MOIM_ATTACHMENT_QUOTA_BYTES (QUOTA_EXCEEDED, 413) and
 * MOIM_ATTACHMENT_UPLOADS_PER_MIN (RATE_LIMITED, 429), per person.
 */

const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function start(env: Record<string, string>): Promise<TestServer> {
  const s = await startTestServer({ MOIM_RATE_LIMIT_BURST: '10000', MOIM_DATA_MIN_FREE_BYTES: '0', ...env });
  servers.push(s);
  return s;
}

/** Files left in the blob store (the refused uploads must leave none). */
function blobFiles(server: TestServer): string[] {
  const root = path.join(server.dataDir, 'blobs');
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

describe('attachment quota per person', () => {
  it('refuses the upload that would pass the quota, declared or streamed; others are not affected', async () => {
    const server = await start({ MOIM_ATTACHMENT_QUOTA_BYTES: '3000', MOIM_ATTACHMENT_UPLOADS_PER_MIN: '1000' });
    const alice = await person(server, 'alice');
    const bob = await person(server, 'bob');
    const ch = await channel(alice, 'quota');
    const first = await upload(server.url, alice.token, ch.id, bytesOf(2000, 1));
    expect(first.status).toBe(201);
    // declared size past the quota: refused before reading the body
    expect(await upload(server.url, alice.token, ch.id, bytesOf(1001, 2))).toEqual({
      status: 413,
      code: 'QUOTA_EXCEEDED',
    });
    // no Content-Length: refused once the stream passes what is left
    expect(await upload(server.url, alice.token, ch.id, bytesOf(1001, 3), { chunked: true })).toEqual({
      status: 413,
      code: 'QUOTA_EXCEEDED',
    });
    // exactly what is left fits; then nothing does
    expect((await upload(server.url, alice.token, ch.id, bytesOf(1000, 4), { chunked: true })).status).toBe(201);
    expect(await upload(server.url, alice.token, ch.id, bytesOf(1, 5))).toEqual({
      status: 413,
      code: 'QUOTA_EXCEEDED',
    });
    // the quota is per person
    const bobs = await channel(bob, 'bobs');
    expect((await upload(server.url, bob.token, bobs.id, bytesOf(3000, 6))).status).toBe(201);
    // nothing of the refused uploads is kept; what was stored is intact
    expect(blobFiles(server)).toHaveLength(3);
    const got = await download(server.url, alice, ch.id, first.attachment!.id);
    expect(got.bytes.equals(Buffer.from(bytesOf(2000, 1)))).toBe(true);
  });

  it('uploads finishing at the same time cannot together pass the quota', async () => {
    const server = await start({ MOIM_ATTACHMENT_QUOTA_BYTES: '30000', MOIM_ATTACHMENT_UPLOADS_PER_MIN: '1000' });
    const alice = await person(server, 'alice');
    const ch = await channel(alice, 'race');
    // each fits the quota left when it starts; only three fit together
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        upload(server.url, alice.token, ch.id, bytesOf(10_000, i), { chunked: true }),
      ),
    );
    const ok = answers.filter((a) => a.status === 201);
    expect(ok).toHaveLength(3);
    expect(answers.filter((a) => a.status !== 201)).toEqual(
      Array.from({ length: 5 }, () => ({ status: 413, code: 'QUOTA_EXCEEDED' })),
    );
    expect(await server.app.stores.chat.attachmentBytes('alice')).toBe(30_000);
    expect(blobFiles(server)).toHaveLength(3);
  });
});

describe('attachment upload rate per person', () => {
  it('refuses uploads past MOIM_ATTACHMENT_UPLOADS_PER_MIN with RATE_LIMITED, for that person only', async () => {
    const server = await start({ MOIM_ATTACHMENT_UPLOADS_PER_MIN: '3' });
    const alice = await person(server, 'alice');
    const bob = await person(server, 'bob');
    const ch = await channel(alice, 'rate');
    const bobs = await channel(bob, 'rate-b');
    for (let i = 0; i < 3; i++)
      expect((await upload(server.url, alice.token, ch.id, bytesOf(100, i))).status).toBe(201);
    expect(await upload(server.url, alice.token, ch.id, bytesOf(100, 9))).toEqual({
      status: 429,
      code: 'RATE_LIMITED',
    });
    expect((await upload(server.url, bob.token, bobs.id, bytesOf(100, 1))).status).toBe(201);
  });
});
