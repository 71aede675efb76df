import { describe, expect, test } from 'vitest';
import { startTestServer } from '../server/src/testing/index.ts';

describe('cluster settings', () => {
  test('are refused with a clear message until the cluster mode exists (no silent single node)', async () => {
    await expect(startTestServer({ DATABASE_URL: 'postgres://127.0.0.1:5432/test' })).rejects.toThrow(
      /DATABASE_URL.*cluster mode/,
    );
    await expect(startTestServer({ REDIS_URL: 'redis://127.0.0.1:6379' })).rejects.toThrow(/REDIS_URL.*cluster mode/);
  });
});
