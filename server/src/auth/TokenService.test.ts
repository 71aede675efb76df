import { createHmac, generateKeyPairSync } from 'node:crypto';
import { MoimError } from '@moim/protocol';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { stableSubFor, TokenService } from './TokenService.ts';

const SECRET = 'a'.repeat(48);
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsaPub = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const ecPub = ec.publicKey.export({ type: 'spki', format: 'pem' }).toString();

const service = new TokenService({
  secret: SECRET,
  secretKid: 'hs-1',
  publicKeys: { 'rs-2026': { alg: 'RS256', key: rsaPub }, 'es-2026': { alg: 'ES256', key: ecPub } },
  audience: 'moim',
  devTokenTtlS: 3600,
});

const claims = {
  sub: 'u-1',
  name: 'Kim Minji',
  org: 'seoul-city',
  teams: ['policy'],
  site: 'sejong-smart-office',
  role: 'member',
  grants: { rooms: { '*': ['join'] }, docs: {}, chat: true, createRooms: [] },
};

function codeOf(token: unknown): string {
  try {
    service.verify(token);
  } catch (err) {
    if (err instanceof MoimError) return err.code;
    throw err;
  }
  return 'OK';
}

describe('TokenService.verify — the token matrix', () => {
  it('accepts a valid HS256 token and returns its claims', () => {
    const token = jwt.sign(claims, SECRET, { algorithm: 'HS256', keyid: 'hs-1', audience: 'moim', expiresIn: 60 });
    const v = service.verify(token);
    expect(v.sub).toBe('u-1');
    expect(v.site).toBe('sejong-smart-office');
    expect(v.exp).toBeGreaterThan(Date.now() / 1000);
  });

  it('accepts RS256 and ES256 tokens by kid (key rotation)', () => {
    const rs = jwt.sign(claims, rsa.privateKey, {
      algorithm: 'RS256',
      keyid: 'rs-2026',
      audience: 'moim',
      expiresIn: 60,
    });
    const es = jwt.sign(claims, ec.privateKey, {
      algorithm: 'ES256',
      keyid: 'es-2026',
      audience: 'moim',
      expiresIn: 60,
    });
    expect(codeOf(rs)).toBe('OK');
    expect(codeOf(es)).toBe('OK');
  });

  it('refuses an expired token with TOKEN_EXPIRED', () => {
    const token = jwt.sign({ ...claims, exp: Math.floor(Date.now() / 1000) - 60 }, SECRET, {
      algorithm: 'HS256',
      keyid: 'hs-1',
      audience: 'moim',
    });
    expect(codeOf(token)).toBe('TOKEN_EXPIRED');
  });

  it('refuses a forged signature with TOKEN_INVALID', () => {
    const token = jwt.sign(claims, 'b'.repeat(48), {
      algorithm: 'HS256',
      keyid: 'hs-1',
      audience: 'moim',
      expiresIn: 60,
    });
    expect(codeOf(token)).toBe('TOKEN_INVALID');
    const rsForged = jwt.sign(claims, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, {
      algorithm: 'RS256',
      keyid: 'rs-2026',
      audience: 'moim',
      expiresIn: 60,
    });
    expect(codeOf(rsForged)).toBe('TOKEN_INVALID');
  });

  it('refuses alg:none with TOKEN_ALGORITHM', () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT', kid: 'hs-1' })).toString('base64url');
    const body = Buffer.from(
      JSON.stringify({ ...claims, aud: 'moim', exp: Math.floor(Date.now() / 1000) + 60 }),
    ).toString('base64url');
    expect(codeOf(`${header}.${body}.`)).toBe('TOKEN_ALGORITHM');
    const noKid = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    expect(codeOf(`${noKid}.${body}.`)).toBe('TOKEN_ALGORITHM');
  });

  it('refuses the wrong algorithm for a key (HS256 signed with the RSA public key) with TOKEN_ALGORITHM', () => {
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: 'rs-2026' })).toString('base64url');
    const body = Buffer.from(
      JSON.stringify({ ...claims, aud: 'moim', exp: Math.floor(Date.now() / 1000) + 60 }),
    ).toString('base64url');
    const sig = createHmac('sha256', rsaPub).update(`${header}.${body}`).digest('base64url');
    expect(codeOf(`${header}.${body}.${sig}`)).toBe('TOKEN_ALGORITHM');
    const es = jwt.sign(claims, ec.privateKey, {
      algorithm: 'ES256',
      keyid: 'rs-2026',
      audience: 'moim',
      expiresIn: 60,
    });
    expect(codeOf(es)).toBe('TOKEN_ALGORITHM');
  });

  it('refuses the wrong audience with TOKEN_AUDIENCE', () => {
    const token = jwt.sign(claims, SECRET, { algorithm: 'HS256', keyid: 'hs-1', audience: 'other-app', expiresIn: 60 });
    expect(codeOf(token)).toBe('TOKEN_AUDIENCE');
  });

  it('refuses missing, garbage, unknown-kid and bad-claims tokens with distinct codes', () => {
    expect(codeOf(undefined)).toBe('TOKEN_MISSING');
    expect(codeOf('')).toBe('TOKEN_MISSING');
    expect(codeOf(42)).toBe('TOKEN_MISSING');
    expect(codeOf('not.a.jwt')).toBe('TOKEN_INVALID');
    expect(codeOf('x'.repeat(20_000))).toBe('TOKEN_INVALID');
    expect(
      codeOf(jwt.sign(claims, SECRET, { algorithm: 'HS256', keyid: 'nope', audience: 'moim', expiresIn: 60 })),
    ).toBe('TOKEN_INVALID');
    expect(
      codeOf(
        jwt.sign({ ...claims, role: 'emperor' }, SECRET, {
          algorithm: 'HS256',
          keyid: 'hs-1',
          audience: 'moim',
          expiresIn: 60,
        }),
      ),
    ).toBe('TOKEN_CLAIMS');
    expect(codeOf(jwt.sign(claims, SECRET, { algorithm: 'HS256', keyid: 'hs-1', audience: 'moim' }))).toBe(
      'TOKEN_CLAIMS',
    ); // nobody speaks as moim's system account
    expect(
      codeOf(
        jwt.sign({ ...claims, sub: 'moim' }, SECRET, {
          algorithm: 'HS256',
          keyid: 'hs-1',
          audience: 'moim',
          expiresIn: 60,
        }),
      ),
    ).toBe('TOKEN_CLAIMS');
  });
});

describe('TokenService.signDev', () => {
  it('derives a stable sub from the name and the grants from the role, narrowable', () => {
    const a = service.signDev({ name: 'Lee Jun', site: 'home', role: 'member' });
    expect(a.claims.sub).toBe(stableSubFor('Lee Jun'));
    expect(a.claims.grants.rooms['*']).toEqual(['join', 'publish', 'subscribe']);
    const m = service.signDev({ name: 'Park', site: 'hq', role: 'manager' });
    expect(m.claims.grants.rooms['*']).toContain('moderate');
    const ro = service.signDev({ name: 'Reader', site: 'hq', role: 'member', grants: { docs: { '*': ['read'] } } });
    expect(service.verify(ro.token).grants.docs['*']).toEqual(['read']);
  });
});
