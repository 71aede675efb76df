import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configWarnings, loadConfig } from '../config.ts';

const dataDir = mkdtempSync(path.join(tmpdir(), 'moim-turn-warn-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const warnings = (env: Record<string, string>) =>
  configWarnings(loadConfig({ MOIM_DATA_DIR: dataDir, ...env })).filter((w) => w.includes('TURN'));

describe('TURN settings the entry point warns about', () => {
  it('a TURN URL without a secret, a short secret, no TLS URL in production', () => {
    expect(warnings({})).toEqual([]);
    expect(warnings({ MOIM_TURN_URLS: '["turns:t.example.org:443"]' })).toEqual([
      expect.stringMatching(/MOIM_TURN_SECRET is unset/),
    ]);
    expect(warnings({ MOIM_TURN_URLS: '["turns:t.example.org:443"]', MOIM_TURN_SECRET: 'short' })).toEqual([
      expect.stringMatching(/shorter than 16/),
    ]);
    expect(
      warnings({
        MOIM_ENV: 'production',
        MOIM_JWT_SECRET: 'Zq3!vR8#pL2@mW6$kT9^nB4&xC7*hF1(',
        // production needs a sign-in method: here an outside issuer
        MOIM_JWT_ISSUER: 'https://idp.example.org',
        MOIM_TURN_URLS: '["turn:t.example.org:3478"]',
        MOIM_TURN_SECRET: 'a-long-enough-shared-secret',
      }),
    ).toEqual([expect.stringMatching(/no turns: URL/)]);
    expect(
      warnings({ MOIM_TURN_URLS: '["turns:t.example.org:443"]', MOIM_TURN_SECRET: 'a-long-enough-shared-secret' }),
    ).toEqual([]);
  });
});
