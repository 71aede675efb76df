import { createHmac } from 'node:crypto';
import { expect, test } from 'vitest';
import { iceServersFor } from './iceServers.ts';

test('TURN REST credentials: expiry:user and base64 HMAC-SHA1 of it', () => {
  const now = Date.UTC(2026, 0, 1);
  const [server] = iceServersFor(
    'u-1',
    { urls: ['turns:turn.example.org:443?transport=tcp'], secret: 's3cret', ttlS: 600 },
    now,
  );
  expect(server?.username).toBe(`${now / 1000 + 600}:u-1`);
  expect(server?.credential).toBe(createHmac('sha1', 's3cret').update(server!.username!).digest('base64'));
  expect(iceServersFor('u', { urls: ['stun:stun.example.org'], ttlS: 60 })).toEqual([
    { urls: ['stun:stun.example.org'] },
  ]);
  expect(iceServersFor('u', { urls: [], secret: 'x', ttlS: 60 })).toEqual([]);
});
