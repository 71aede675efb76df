import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARS, ConfigError, configTableMarkdown, configWarnings, loadConfig } from './config.ts';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'moim-config-'));

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig({ MOIM_DATA_DIR: tmp(), ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives typed defaults', () => {
    const c = loadConfig({ MOIM_DATA_DIR: tmp() }, { cpus: 3 });
    expect(c.port).toBe(3000);
    expect(c.env).toBe('development');
    expect(c.sfuWorkers).toBe(3);
    expect(c.devTokensEnabled).toBe(true);
    expect(c.rtcListen).toEqual([{ ip: '127.0.0.1' }]);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT', /integer/],
    [{ PORT: '70000' }, 'PORT', /between 0 and 65535/],
    [{ MOIM_ENV: 'staging' }, 'MOIM_ENV', /one of/],
    [{ MOIM_LOG_LEVEL: 'loud' }, 'MOIM_LOG_LEVEL', /one of/],
    [{ MOIM_DEV_TOKENS: 'maybe' }, 'MOIM_DEV_TOKENS', /true or false/],
    [{ MOIM_RTC_LISTEN: '[{' }, 'MOIM_RTC_LISTEN', /JSON/],
    [{ MOIM_RTC_LISTEN: '[{"ip":1}]' }, 'MOIM_RTC_LISTEN', /entry 0/],
    [{ MOIM_JWT_PUBLIC_KEYS: '{"k1":{"alg":"HS256","key":"x"}}' }, 'MOIM_JWT_PUBLIC_KEYS', /k1/],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL', /postgres/],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL', /redis/],
  ])('refuses %o naming the variable', (env, variable, message) => {
    const err = errorOf(env as Record<string, string>);
    expect(err.variable).toBe(variable);
    expect(err.message).toMatch(new RegExp(`^${variable}: `));
    expect(err.message).toMatch(message);
  });

  it('lets the WebRTC port fall back only when MOIM_RTC_PORT is unset outside production, or when asked', () => {
    const prod = {
      MOIM_ENV: 'production',
      MOIM_JWT_SECRET: 'q8Jd2LmX0vTz4PwR7nYc5KbA1sHe3UgF9oIi6VtN',
      MOIM_JWT_ISSUER: 'https://idp.example.org',
    };
    const of = (env: Record<string, string>) => loadConfig({ MOIM_DATA_DIR: tmp(), ...env });
    expect(of({})).toMatchObject({ rtcPort: 40000, rtcPortFallback: true });
    expect(of({ MOIM_ENV: 'test' })).toMatchObject({ rtcPort: 40000, rtcPortFallback: true });
    expect(of({ MOIM_RTC_PORT: '40000' })).toMatchObject({ rtcPort: 40000, rtcPortFallback: false });
    expect(of({ MOIM_RTC_PORT: '0' })).toMatchObject({ rtcPort: 0, rtcPortFallback: false });
    expect(of(prod)).toMatchObject({ rtcPort: 40000, rtcPortFallback: false });
    expect(of({ ...prod, MOIM_RTC_PORT_FALLBACK: 'on' })).toMatchObject({ rtcPortFallback: true });
    expect(of({ MOIM_RTC_PORT_FALLBACK: 'off' })).toMatchObject({ rtcPortFallback: false });
    expect(errorOf({ MOIM_RTC_PORT_FALLBACK: 'maybe' }).variable).toBe('MOIM_RTC_PORT_FALLBACK');
    expect(errorOf({ MOIM_RTC_PORT: '70000' }).message).toMatch(/between 0 and 65535/);
  });

  it('production refuses a missing or weak key and disables dev sign-in', () => {
    expect(errorOf({ MOIM_ENV: 'production' }).variable).toBe('MOIM_JWT_SECRET');
    expect(errorOf({ MOIM_ENV: 'production', MOIM_JWT_SECRET: 'short' }).message).toMatch(/weak/);
    expect(errorOf({ MOIM_ENV: 'production', MOIM_JWT_SECRET: 'x'.repeat(40) }).message).toMatch(/weak/);
    const c = loadConfig({
      MOIM_ENV: 'production',
      MOIM_JWT_SECRET: 'q8Jd2LmX0vTz4PwR7nYc5KbA1sHe3UgF9oIi6VtN',
      MOIM_JWT_ISSUER: 'https://idp.example.org',
      MOIM_DATA_DIR: tmp(),
    });
    expect(c.devTokensEnabled).toBe(false);
  });

  it('production refuses to start without a sign-in method; insecure OIDC is for tests only', () => {
    const secret = { MOIM_ENV: 'production', MOIM_JWT_SECRET: 'q8Jd2LmX0vTz4PwR7nYc5KbA1sHe3UgF9oIi6VtN' };
    expect(errorOf({ ...secret, MOIM_DATA_DIR: tmp() }).message).toMatch(/production needs a sign-in method/);
    const oidc = loadConfig({
      ...secret,
      MOIM_OIDC_ISSUER: 'https://idp.example.org',
      MOIM_OIDC_CLIENT_ID: 'moim',
      MOIM_DATA_DIR: tmp(),
    });
    expect(oidc.oidcIssuer).toBe('https://idp.example.org');
    expect(
      errorOf({ MOIM_OIDC_ISSUER: 'http://idp.test', MOIM_OIDC_CLIENT_ID: 'moim', MOIM_DATA_DIR: tmp() }).variable,
    ).toBe('MOIM_OIDC_ISSUER');
    expect(errorOf({ MOIM_OIDC_ALLOW_INSECURE: 'true', MOIM_DATA_DIR: tmp() }).variable).toBe(
      'MOIM_OIDC_ALLOW_INSECURE',
    );
    expect(errorOf({ MOIM_PASSKEY_RP_ID: '127.0.0.1', MOIM_DATA_DIR: tmp() }).variable).toBe('MOIM_PASSKEY_RP_ID');
    expect(errorOf({ MOIM_CERT_PORT: '0', MOIM_DATA_DIR: tmp() }).variable).toBe('MOIM_CERT_SERVER_CERT');
    const rp = (id: string) =>
      configWarnings(
        loadConfig({ MOIM_PASSKEY_RP_ID: id, MOIM_PUBLIC_URL: 'https://moim.example.org', MOIM_DATA_DIR: tmp() }),
      ).some((w) => w.startsWith('MOIM_PASSKEY_RP_ID'));
    expect([rp('moim.example.org'), rp('example.org'), rp('other.org')]).toEqual([false, false, true]);
  });

  it('generates a development secret once, private to the owner, and reuses it', () => {
    const dir = tmp();
    const a = loadConfig({ MOIM_DATA_DIR: dir });
    const b = loadConfig({ MOIM_DATA_DIR: dir });
    expect(a.jwtSecret).toBeDefined();
    expect(a.jwtSecret!.length).toBeGreaterThanOrEqual(32);
    expect(b.jwtSecret).toBe(a.jwtSecret);
    const file = path.join(dir, 'dev-secret');
    expect(readFileSync(file, 'utf8').trim()).toBe(a.jwtSecret);
    expect(statSync(file).mode & 0o077).toBe(0);
  });

  it('documents every variable in the README table', () => {
    const table = configTableMarkdown();
    const readme = readFileSync(path.join(import.meta.dirname, '../../README.md'), 'utf8');
    for (const def of Object.values(CONFIG_VARS)) {
      expect(table).toContain(`\`${def.env}\``);
      expect(readme, `README lacks ${def.env}`).toContain(`\`${def.env}\``);
    }
  });
});
