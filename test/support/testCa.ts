/**
 * Test certificate authorities made with `openssl` (no fixtures): a CA standing in for GPKI with
 * a server certificate for `localhost`, client certificates, a revocation list, and a second,
 * untrusted CA. Everything lives in a temporary folder the caller removes.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const openssl = (cwd: string, ...args: string[]) => execFileSync('openssl', args, { cwd, stdio: 'pipe' });

export class TestCa {
  readonly dir: string;
  readonly cert: string;
  readonly key: string;
  constructor(dir: string, subject: string) {
    mkdirSync(dir, { recursive: true });
    this.dir = dir;
    this.cert = path.join(dir, 'ca.crt');
    this.key = path.join(dir, 'ca.key');
    openssl(
      dir,
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '2',
      '-subj',
      subject,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
    writeFileSync(path.join(dir, 'index.txt'), '');
    writeFileSync(path.join(dir, 'crlnumber'), '01\n');
    writeFileSync(
      path.join(dir, 'ca.cnf'),
      [
        '[ ca ]',
        'default_ca = CA_default',
        '[ CA_default ]',
        `dir = ${dir}`,
        'database = $dir/index.txt',
        'crlnumber = $dir/crlnumber',
        'certificate = $dir/ca.crt',
        'private_key = $dir/ca.key',
        'new_certs_dir = $dir',
        'default_md = sha256',
        'default_crl_days = 1',
        'policy = policy_any',
        '[ policy_any ]',
        'commonName = supplied',
        '',
      ].join('\n'),
    );
  }

  /** A certificate (and key) signed by this CA: `server` for localhost, else a client certificate. */
  issue(name: string, subject: string, kind: 'server' | 'client'): { cert: string; key: string } {
    const ext = path.join(this.dir, `${name}.ext`);
    writeFileSync(
      ext,
      kind === 'server'
        ? 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'
        : 'extendedKeyUsage=clientAuth\n',
    );
    openssl(
      this.dir,
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      subject,
    );
    openssl(
      this.dir,
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      ext,
      '-out',
      `${name}.crt`,
    );
    return { cert: path.join(this.dir, `${name}.crt`), key: path.join(this.dir, `${name}.key`) };
  }

  revoke(cert: string): void {
    openssl(this.dir, 'ca', '-config', 'ca.cnf', '-revoke', cert);
  }

  /** Write the CRL (after revocations) and return its path. */
  crl(): string {
    openssl(this.dir, 'ca', '-config', 'ca.cnf', '-gencrl', '-out', 'ca.crl');
    return path.join(this.dir, 'ca.crl');
  }
}
