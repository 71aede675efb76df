import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { makeDirs } from './storage/DataDir.ts';
import { describeFsError } from './storage/storageErrors.ts';

/**
 * Environment → typed configuration. Every variable moim reads is one row of `CONFIG_VARS`
 * (which also generates the README's configuration table). `loadConfig` is called once, by the
 * process entry point; a bad value throws a ConfigError naming the variable.
 */

import { ConfigError, type Env, type VarDef } from './config/parse.ts';
import { secretWeakness } from './config/secrets.ts';
import { CONFIG_VARS } from './config/vars.ts';

export { ConfigError, type ListenAddress, type PublicKeyDef } from './config/parse.ts';
export { secretWeakness } from './config/secrets.ts';
export { CONFIG_VARS } from './config/vars.ts';

type Vars = typeof CONFIG_VARS;
type Parsed = { [K in keyof Vars]: ReturnType<Vars[K]['parse']> };

export interface Config extends Omit<Parsed, 'jwtSecret' | 'sfuWorkers' | 'nodeId' | 'rtcPort' | 'rtcPortFallback'> {
  jwtSecret: string | undefined;
  /** `MOIM_RTC_PORT`, or its default. */
  rtcPort: number;
  /** Listen on free ports when `rtcPort` is taken (MOIM_RTC_PORT_FALLBACK; `auto`: MOIM_RTC_PORT unset, outside production). */
  rtcPortFallback: boolean;
  sfuWorkers: number;
  nodeId: string;
  /** True when dev sign-in is served. */
  devTokensEnabled: boolean;
}

const WEAK_SECRET_BYTES = 32;
/** First WebRTC port when MOIM_RTC_PORT is unset (the README table's default). */
const DEFAULT_RTC_PORT = 40000;

/**
 * Parse the environment. Throws ConfigError naming the first bad variable.
 * In development with no secret, one is generated once and kept in `<dataDir>/dev-secret`.
 */
export function loadConfig(env: Env, opts: { cpus?: number } = {}): Config {
  const parsed = {} as Record<string, unknown>;
  for (const [key, def] of Object.entries(CONFIG_VARS) as [string, VarDef<unknown>][]) {
    parsed[key] = def.parse(env[def.env], def.env);
  }
  const p = parsed as Parsed;
  const production = p.env === 'production';
  let jwtSecret = p.jwtSecret;
  if (jwtSecret !== undefined && Buffer.byteLength(jwtSecret) < WEAK_SECRET_BYTES) {
    if (production)
      throw new ConfigError('MOIM_JWT_SECRET', `too weak: at least ${WEAK_SECRET_BYTES} bytes are required`);
  }
  const weakness = jwtSecret === undefined ? undefined : secretWeakness(jwtSecret);
  if (production && weakness !== undefined)
    throw new ConfigError('MOIM_JWT_SECRET', `too weak: ${weakness}; generate one with: openssl rand -base64 48`);
  if (production) {
    if (jwtSecret === undefined && Object.keys(p.jwtPublicKeys).length === 0) {
      throw new ConfigError('MOIM_JWT_SECRET', 'production needs MOIM_JWT_SECRET (≥ 32 bytes) or MOIM_JWT_PUBLIC_KEYS');
    }
  } else if (jwtSecret === undefined) {
    jwtSecret = devSecret(p.dataDir);
  }
  checkSignIn(p, production);
  return {
    ...p,
    jwtSecret,
    sfuWorkers: p.sfuWorkers || (opts.cpus ?? 1),
    rtcPort: p.rtcPort ?? DEFAULT_RTC_PORT,
    rtcPortFallback:
      p.rtcPortFallback === 'on' || (p.rtcPortFallback === 'auto' && p.rtcPort === undefined && !production),
    nodeId: p.nodeId ?? `${hostname()}-${process.pid}`,
    devTokensEnabled: p.devTokens && !production,
  };
}

/**
 * Sign-in settings (issue 17): production needs a sign-in method — OIDC, certificates, or an
 * outside issuer's tokens (MOIM_JWT_PUBLIC_KEYS, or MOIM_JWT_SECRET with MOIM_JWT_ISSUER naming
 * that issuer); the insecure OIDC switch is for tests; each method's settings are complete.
 */
function checkSignIn(p: Parsed, production: boolean): void {
  if (p.oidcIssuer && !p.oidcClientId)
    throw new ConfigError('MOIM_OIDC_CLIENT_ID', 'MOIM_OIDC_ISSUER needs a client id');
  if (p.oidcAllowInsecure && p.env !== 'test')
    throw new ConfigError('MOIM_OIDC_ALLOW_INSECURE', 'only allowed with MOIM_ENV=test');
  if (p.oidcIssuer?.startsWith('http:') && !p.oidcAllowInsecure)
    throw new ConfigError('MOIM_OIDC_ISSUER', 'must be https:');
  if (p.certPort >= 0)
    for (const [name, value] of [
      ['MOIM_CERT_SERVER_CERT', p.certServerCert],
      ['MOIM_CERT_SERVER_KEY', p.certServerKey],
      ['MOIM_CERT_CA', p.certCa],
      ['MOIM_CERT_CRL', p.certCrl],
    ] as const) {
      if (!value) throw new ConfigError(name, 'certificate sign-in (MOIM_CERT_PORT) needs this PEM file');
      if (!existsSync(value)) throw new ConfigError(name, `no such file: ${value}`);
    }
  if (p.sessionKeySecret !== undefined && Buffer.byteLength(p.sessionKeySecret) < WEAK_SECRET_BYTES)
    throw new ConfigError('MOIM_SESSION_KEY_SECRET', `too weak: at least ${WEAK_SECRET_BYTES} bytes are required`);
  if (!production) return;
  if (p.sessionKeySecret === undefined && p.jwtSecret === undefined)
    throw new ConfigError(
      'MOIM_SESSION_KEY_SECRET',
      'production needs it (or MOIM_JWT_SECRET) to keep the signing keys',
    );
  const outsideIssuer = Object.keys(p.jwtPublicKeys).length > 0 || (p.jwtSecret !== undefined && !!p.jwtIssuer);
  if (!p.oidcIssuer && p.certPort < 0 && !outsideIssuer)
    throw new ConfigError(
      'MOIM_OIDC_ISSUER',
      'production needs a sign-in method: MOIM_OIDC_ISSUER, MOIM_CERT_PORT, or an outside issuer (MOIM_JWT_PUBLIC_KEYS, or MOIM_JWT_SECRET with MOIM_JWT_ISSUER)',
    );
}

function devSecret(dataDir: string): string {
  const file = path.resolve(dataDir, 'dev-secret');
  try {
    if (existsSync(file)) return readFileSync(file, 'utf8').trim();
    makeDirs(dataDir);
    const secret = randomBytes(48).toString('base64url');
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
    return secret;
  } catch (err) {
    // a missing, read-only or unwritable data folder: one line naming the file and the reason
    throw new ConfigError('MOIM_DATA_DIR', `cannot keep the development secret ${file}: ${describeFsError(err)}`);
  }
}

/**
 * Settings that are allowed but risky: the entry point logs each as a warning at start.
 * (Refusing them would break test and benchmark set-ups that use them on purpose.)
 */
export function configWarnings(c: Config): string[] {
  const warnings: string[] = [];
  if (c.env === 'production' && c.sfuAllowPlain)
    warnings.push(
      'MOIM_SFU_ALLOW_PLAIN is on in production: anyone with a room grant may create unencrypted plain-RTP transports; turn it off unless this node runs tests or benchmarks',
    );
  warnings.push(...turnWarnings(c));
  if (c.passkeyRpId && c.publicUrl) {
    const host = new URL(c.publicUrl).hostname;
    if (host !== c.passkeyRpId && !host.endsWith(`.${c.passkeyRpId}`))
      warnings.push(
        `MOIM_PASSKEY_RP_ID ${c.passkeyRpId} is not ${host} nor a parent domain of it: browsers will refuse every passkey ceremony on MOIM_PUBLIC_URL`,
      );
  }
  if (c.redisUrl && c.auditKeyFile === undefined)
    warnings.push(
      'REDIS_URL (cluster) without MOIM_AUDIT_KEY_FILE: each node signs the audit chain with its own generated key in its data folder; give every node the same key file (or pass each node’s key to audit:verify with --key)',
    );
  return warnings;
}

/** TURN settings that leave closed networks without a usable relay (see README, Closed networks). */
function turnWarnings(c: Config): string[] {
  const relays = c.turnUrls.filter((u) => /^turns?:/.test(u));
  if (relays.length === 0) return [];
  const out: string[] = [];
  if (!c.turnSecret)
    out.push(
      'MOIM_TURN_URLS lists a TURN server but MOIM_TURN_SECRET is unset: clients get no TURN credentials, so the relay either refuses them or relays for anyone',
    );
  else if (c.turnSecret.length < 16)
    out.push('MOIM_TURN_SECRET is shorter than 16 characters: generate one with: openssl rand -base64 48');
  if (c.env === 'production' && !relays.some((u) => u.startsWith('turns:')))
    out.push('MOIM_TURN_URLS has no turns: URL: networks that allow only TLS (port 443) cannot reach the relay');
  return out;
}

/** The README configuration table, generated from CONFIG_VARS. */
export function configTableMarkdown(): string {
  const rows = (Object.values(CONFIG_VARS) as VarDef<unknown>[]).map((d) => {
    const text = d.defaultText ?? d.parse.defaultText;
    return `| \`${d.env}\` | ${text.includes('`') ? text : `\`${text}\``} | ${d.doc} |`;
  });
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}
