import { afterAll, describe, expect, test } from 'vitest';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../server/src/storage/contract/backends.ts';
import { startTestServer } from '../server/src/testing/index.ts';

const schema = uniqueSchema('settings');
afterAll(() => dropSchema(schema));

describe('cluster settings', () => {
  test('DATABASE_URL alone runs one node on PostgreSQL, and a second node on the same schema is refused', async () => {
    const env = { DATABASE_URL: TEST_DATABASE_URL, MOIM_DATABASE_SCHEMA: schema };
    const first = await startTestServer(env);
    try {
      expect(first.app.stores.kind).toBe('postgres');
      await expect(startTestServer(env)).rejects.toThrow(/another moim node uses the PostgreSQL schema.*REDIS_URL/);
    } finally {
      await first.close();
    }
    // the lock went with the first node's connection: a new node starts
    const again = await startTestServer(env);
    await again.close();
  });

  test('REDIS_URL needs DATABASE_URL (nodes on their own SQLite would silently split)', async () => {
    await expect(startTestServer({ REDIS_URL: 'redis://127.0.0.1:6379' })).rejects.toThrow(
      /REDIS_URL.*needs DATABASE_URL/,
    );
  });
});
