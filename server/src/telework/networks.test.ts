/**
 * CIDR matching of telework sites' networks: IPv4, IPv6 (compressed forms, embedded IPv4), an
 * IPv4-mapped IPv6 address matching its IPv4 range and the other way round, prefixes 0 and full,
 * host bits in a range, the longest match winning, and bad input matching nothing.
 */
import type { Site } from '@moim/protocol';
import { describe, expect, it } from 'vitest';
import { matchesAny, parseAddress, parseCidr, siteOfAddress } from './networks.ts';

const site = (id: string, networks: string[]): Site => ({
  id,
  name: id,
  address: '',
  timeZone: 'UTC',
  openingHours: [null, null, null, null, null, null, null],
  networks,
  kind: 'smart-work-centre',
});

describe('telework networks (CIDR)', () => {
  it('matches IPv4 ranges', () => {
    expect(matchesAny('127.0.0.2', ['127.0.0.2/32'])).toBe(true);
    expect(matchesAny('127.0.0.1', ['127.0.0.2/32'])).toBe(false);
    expect(matchesAny('10.20.30.40', ['10.20.0.0/16'])).toBe(true);
    expect(matchesAny('10.21.0.1', ['10.20.0.0/16'])).toBe(false);
    expect(matchesAny('192.168.1.77', ['192.168.1.64/27'])).toBe(true);
    expect(matchesAny('192.168.1.96', ['192.168.1.64/27'])).toBe(false);
    expect(matchesAny('8.8.8.8', ['0.0.0.0/0'])).toBe(true);
    // host bits below the prefix are ignored
    expect(matchesAny('10.9.9.9', ['10.0.0.1/8'])).toBe(true);
  });

  it('matches IPv6 ranges, compressed or not', () => {
    expect(matchesAny('2001:db8::1', ['2001:db8::/32'])).toBe(true);
    expect(matchesAny('2001:0db8:0000:0000:0000:0000:0000:0001', ['2001:db8::/32'])).toBe(true);
    expect(matchesAny('2001:db9::1', ['2001:db8::/32'])).toBe(false);
    expect(matchesAny('fe80::1:2', ['fe80::/64'])).toBe(true);
    expect(matchesAny('::1', ['::1/128'])).toBe(true);
    expect(matchesAny('::2', ['::1/128'])).toBe(false);
    expect(matchesAny('2001:db8:1::', ['2001:db8:1::/48', '10.0.0.0/8'])).toBe(true);
    // families do not mix
    expect(matchesAny('::a00:1', ['10.0.0.0/8'])).toBe(false);
    expect(matchesAny('10.0.0.1', ['::/0'])).toBe(false);
  });

  it('treats an IPv4-mapped IPv6 address as its IPv4 address, both ways', () => {
    expect(parseAddress('::ffff:127.0.0.2')).toEqual({ v: 4, bits: parseAddress('127.0.0.2')!.bits });
    expect(matchesAny('::ffff:127.0.0.2', ['127.0.0.2/32'])).toBe(true);
    expect(matchesAny('::ffff:7f00:2', ['127.0.0.0/8'])).toBe(true);
    expect(matchesAny('::ffff:127.0.0.1', ['127.0.0.2/32'])).toBe(false);
    // an IPv6 range inside ::ffff:0:0/96 is the IPv4 range it maps
    expect(parseCidr('::ffff:10.0.0.0/104')).toEqual({ v: 4, bits: parseAddress('10.0.0.0')!.bits, prefix: 8 });
    expect(matchesAny('10.1.2.3', ['::ffff:10.0.0.0/104'])).toBe(true);
    expect(matchesAny('::ffff:10.1.2.3', ['::ffff:10.0.0.0/104'])).toBe(true);
    expect(matchesAny('11.1.2.3', ['::ffff:10.0.0.0/104'])).toBe(false);
  });

  it('matches nothing for bad input, and throws nothing', () => {
    for (const bad of [
      '',
      'unknown',
      '127.0.0.256',
      '1.2.3',
      '01.2.3.4x',
      'fe80::1%eth0',
      ':::1',
      '1::2::3',
      '__proto__',
    ])
      expect(matchesAny(bad, ['0.0.0.0/0', '::/0']), bad).toBe(false);
    for (const bad of [
      '10.0.0.0',
      '10.0.0.0/33',
      '10.0.0.0/-1',
      '10.0.0.0/8/8',
      '::/129',
      'x/8',
      '10.0.0.0/ 8',
      '10.0.0.0/',
    ])
      expect(parseCidr(bad), bad).toBeUndefined();
    expect(matchesAny('10.0.0.1', ['nonsense', '10.0.0.0/99'])).toBe(false);
  });

  it('finds the site of an address: the longest prefix wins, ties by id', () => {
    const sites = [site('hq', ['10.0.0.0/8']), site('centre', ['10.1.2.0/24']), site('b', ['::ffff:10.9.0.0/112'])];
    expect(siteOfAddress('10.1.2.3', sites)?.id).toBe('centre');
    expect(siteOfAddress('::ffff:10.1.2.3', sites)?.id).toBe('centre');
    expect(siteOfAddress('10.7.0.1', sites)?.id).toBe('hq');
    expect(siteOfAddress('10.9.0.1', sites)?.id).toBe('b');
    expect(siteOfAddress('11.0.0.1', sites)).toBeUndefined();
    expect(siteOfAddress('unknown', sites)).toBeUndefined();
    const tie = [site('zz', ['10.0.0.0/8']), site('aa', ['10.0.0.0/8'])];
    expect(siteOfAddress('10.0.0.1', tie)?.id).toBe('aa');
  });
});
