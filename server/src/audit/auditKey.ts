/**
 * The audit signing key: Ed25519, kept in a file outside the database (MOIM_AUDIT_KEY_FILE), so
 * whoever can rewrite the database cannot sign a new chain head. Without a configured file, one is
 * generated once into the data folder (mode 0600) — a cluster should configure one file shared by
 * its nodes, or give the verifier each node's public key.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface AuditKey {
  /** Absent when only a public key was loaded (the verifier). */
  privateKey?: KeyObject;
  publicKey: KeyObject;
  /** The first 16 hex digits of SHA-256 over the public key (SPKI DER). */
  keyId: string;
}

export const keyIdOf = (publicKey: KeyObject): string =>
  createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);

/** The default key file when MOIM_AUDIT_KEY_FILE is unset. */
export const defaultAuditKeyFile = (dataDir: string): string => path.resolve(dataDir, 'audit-key.pem');

/** Load the Ed25519 private key of `file`; create it (0600) when `create` and it is missing. */
export function loadAuditKey(file: string, opts: { create?: boolean } = {}): AuditKey {
  if (!existsSync(file)) {
    if (!opts.create) throw new Error(`audit key file ${file} does not exist`);
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
  }
  const pem = readFileSync(file, 'utf8');
  if (pem.includes('PUBLIC KEY')) {
    const publicKey = createPublicKey(pem);
    assertEd25519(publicKey, file);
    return { publicKey, keyId: keyIdOf(publicKey) };
  }
  const privateKey = createPrivateKey(pem);
  assertEd25519(privateKey, file);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

function assertEd25519(key: KeyObject, file: string): void {
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(`audit key ${file} is ${key.asymmetricKeyType ?? 'not asymmetric'}, expected an Ed25519 key`);
}
