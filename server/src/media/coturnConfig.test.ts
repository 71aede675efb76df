import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { coturnConfig, turnsEndpoint } from './coturnConfig.ts';

const base = {
  urls: ['turns:turn.example.org:5349?transport=tcp'],
  secret: 'a-long-enough-shared-secret',
  sfuAddresses: [{ ip: '0.0.0.0', announcedAddress: '203.0.113.5' }, { ip: '10.0.0.5' }],
  cert: '/etc/coturn/fullchain.pem',
  pkey: '/etc/coturn/privkey.pem',
};
const lines = (text: string) => text.split('\n');

describe('coturn configuration from moim settings', () => {
  it('reads host and port of the turns: URL (443 when none)', () => {
    expect(turnsEndpoint(['stun:x', 'turns:turn.example.org:5349?transport=tcp'])).toEqual({
      host: 'turn.example.org',
      port: 5349,
    });
    expect(turnsEndpoint(['turns:turn.example.org?transport=tcp'])).toEqual({ host: 'turn.example.org', port: 443 });
    expect(turnsEndpoint(['turns:[2001:db8::1]:443'])).toEqual({ host: '2001:db8::1', port: 443 });
    expect(() => turnsEndpoint(['turn:turn.example.org:3478'])).toThrow(/no turns: URL/);
    expect(() => turnsEndpoint(['turns:host:99999'])).toThrow(/bad port/);
  });

  it('is TLS only, with the shared secret, and relays only to the SFU addresses', () => {
    const conf = lines(coturnConfig(base));
    for (const l of [
      'tls-listening-port=5349',
      'no-udp',
      'no-tcp',
      'no-dtls',
      'use-auth-secret',
      'static-auth-secret=a-long-enough-shared-secret',
      'realm=turn.example.org',
      'cert=/etc/coturn/fullchain.pem',
      'pkey=/etc/coturn/privkey.pem',
      'denied-peer-ip=0.0.0.0-255.255.255.255',
      'denied-peer-ip=::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    ])
      expect(conf).toContain(l);
    // the announced address where set, the listen address otherwise
    expect(conf.filter((l) => l.startsWith('allowed-peer-ip='))).toEqual([
      'allowed-peer-ip=203.0.113.5',
      'allowed-peer-ip=10.0.0.5',
    ]);
    expect(conf).not.toContain('allow-loopback-peers');
    expect(coturnConfig({ ...base, userQuota: 12 })).toContain('\nuser-quota=12\n');
    expect(conf.some((l) => l.startsWith('listening-port'))).toBe(false);
  });

  it('refuses settings that cannot make a safe relay', () => {
    expect(() => coturnConfig({ ...base, secret: 'short' })).toThrow(/MOIM_TURN_SECRET/);
    expect(() => coturnConfig({ ...base, sfuAddresses: [{ ip: '0.0.0.0' }] })).toThrow(/announcedAddress/);
    expect(() => coturnConfig({ ...base, sfuAddresses: [{ ip: '10.0.0.0/8' }] })).toThrow(/not a single IP/);
    expect(() => coturnConfig({ ...base, secret: 'a-long-enough-secret\nno-auth' })).toThrow(/one line/);
  });
});

describe('scripts/turn-config.ts', () => {
  const script = path.resolve(import.meta.dirname, '../../../scripts/turn-config.ts');
  const run = (env: Record<string, string>, args: string[] = []) =>
    spawnSync(process.execPath, [script, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });

  it('prints the configuration from the environment, with extra cluster peers', () => {
    const r = run(
      {
        MOIM_TURN_URLS: '["turns:turn.example.org:443?transport=tcp"]',
        MOIM_TURN_SECRET: 'a-long-enough-shared-secret',
        MOIM_RTC_LISTEN: '[{"ip":"10.0.0.5"}]',
      },
      ['--cert', '/c.pem', '--pkey', '/k.pem', '--peer', '10.0.0.6'],
    );
    expect(r.status).toBe(0);
    const conf = lines(r.stdout);
    expect(conf).toContain('tls-listening-port=443');
    expect(conf).toContain('cert=/c.pem');
    expect(conf).toContain('user-quota=80'); // 20 connections per person (the default) × 4
    expect(conf.filter((l) => l.startsWith('allowed-peer-ip='))).toEqual([
      'allowed-peer-ip=10.0.0.5',
      'allowed-peer-ip=10.0.0.6',
    ]);
  });

  it('stops with one line when the secret is missing', () => {
    const r = run({ MOIM_TURN_URLS: '["turns:turn.example.org"]' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toMatch(/^turn-config: MOIM_TURN_SECRET: is required/);
  });
});
