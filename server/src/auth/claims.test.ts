import { describe, expect, it } from 'vitest';
import { claimsMapSchema } from '../config/signIn.ts';
import { mapClaims } from './claims.ts';

const map = claimsMapSchema.parse({
  org: 'org',
  site: 'site',
  teams: 'groups',
  role: 'roles',
  roles: { admin: ['moim-admin'], manager: ['lead'] },
});

describe('mapClaims', () => {
  it('maps org, site, teams, role and name by the configured claims', () => {
    expect(
      mapClaims({ name: '홍길동', org: 'acme', site: 'Busan', groups: ['ops', 'dev'], roles: ['lead'] }, map, 'u1'),
    ).toEqual({ org: 'acme', profile: { name: '홍길동', site: 'busan', role: 'manager', teams: ['ops', 'dev'] } });
  });

  it('falls back to the defaults for missing or unfit values', () => {
    expect(mapClaims({ site: 'not a site!', groups: 'solo', roles: 'nobody', org: 'x'.repeat(65) }, map, 'u2')).toEqual(
      {
        org: 'default',
        profile: { name: 'u2', site: 'hq', role: 'member', teams: ['solo'] },
      },
    );
  });

  it('never reads Object.prototype for claim names people choose', () => {
    const hostile = claimsMapSchema.parse({
      org: 'constructor',
      site: '__proto__',
      teams: 'toString',
      name: 'valueOf',
    });
    const claims = JSON.parse('{"__proto__": {"site": "x"}}') as Record<string, unknown>;
    expect(mapClaims(claims, hostile, 'u3')).toEqual({
      org: 'default',
      profile: { name: 'u3', site: 'hq', role: 'member', teams: [] },
    });
  });
});
