import { describe, expect, it } from 'vitest';
import { randomId, refreshDelay, tokenExpiry } from './token.ts';

function jwt(payload: object): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'HS256' })}.${b64(payload)}.sig`;
}

describe('token helpers', () => {
  it('reads exp from a JWT without verifying it, and nothing from garbage', () => {
    expect(tokenExpiry(jwt({ sub: '김', exp: 1_900_000_000 }))).toBe(1_900_000_000);
    expect(tokenExpiry(jwt({ sub: 'x' }))).toBeUndefined();
    expect(tokenExpiry('not-a-token')).toBeUndefined();
    expect(tokenExpiry('a.!!!.c')).toBeUndefined();
  });

  it('refreshes at 80% of the remaining life, at least a margin before expiry, never in the past', () => {
    const now = 1_000_000_000_000;
    const exp = (ms: number) => (now + ms) / 1000;
    expect(refreshDelay(exp(12 * 3600_000), now)).toBe(12 * 3600_000 * 0.8);
    expect(refreshDelay(exp(120_000), now)).toBe(60_000); // margin wins
    expect(refreshDelay(exp(10_000), now)).toBe(1_000); // minimum delay
    expect(refreshDelay(exp(-5_000), now)).toBe(1_000);
  });

  it('makes random ids outside secure contexts', () => {
    const a = randomId();
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(randomId()).not.toBe(a);
  });
});
