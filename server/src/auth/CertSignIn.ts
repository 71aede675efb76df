import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { MoimError } from '@moim/protocol';
import type { ClaimsMap } from '../config/signIn.ts';
import type { AuthStore } from '../storage/index.ts';
import { mapClaims } from './claims.ts';
import { personSub } from './OidcSignIn.ts';

export interface CertListenerOptions {
  host: string;
  port: number;
  /** PEM files: the listener's certificate and key, the client CA bundle, the CRL(s). */
  serverCert: string;
  serverKey: string;
  ca: string;
  crl: string;
}

/**
 * The mutual-TLS listener of certificate sign-in and certificate step-up, apart from the main
 * port (browsers ask for a client certificate only here). Node checks each client certificate
 * against the CA bundle and the CRL during the handshake; the handshake is completed either way
 * so that a refused certificate gets a JSON answer (SIGN_IN_FAILED naming why) and an audit row.
 */
export class CertListener {
  readonly server: HttpsServer;
  readonly #o: CertListenerOptions;
  constructor(opts: CertListenerOptions, handle: (req: IncomingMessage, res: ServerResponse) => void) {
    this.#o = opts;
    this.server = createServer(
      {
        cert: readFileSync(opts.serverCert),
        key: readFileSync(opts.serverKey),
        ca: readFileSync(opts.ca),
        crl: readFileSync(opts.crl),
        requestCert: true,
        rejectUnauthorized: false,
        requestTimeout: 30_000,
        headersTimeout: 10_000,
      },
      handle,
    );
  }

  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.#o.port, this.#o.host, () => {
        this.server.off('error', reject);
        resolve(`https://localhost:${(this.server.address() as AddressInfo).port}`);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

export interface ClientCertificate {
  /** `x509:<issuer DN>`: the account link's provider. */
  provider: string;
  /** The subject DN (one `K=V` per line, as node prints it). */
  subject: string;
  serial: string;
  attributes: Record<string, unknown>;
}

/** The verified client certificate of a request on the mutual-TLS listener; SIGN_IN_FAILED otherwise. */
export function clientCertificate(socket: TLSSocket): ClientCertificate {
  const cert = socket.getPeerX509Certificate();
  if (!cert) throw new MoimError('SIGN_IN_FAILED', 'no client certificate was presented');
  if (!socket.authorized)
    throw new MoimError('SIGN_IN_FAILED', `the client certificate is refused: ${String(socket.authorizationError)}`);
  const now = Date.now();
  if (Date.parse(cert.validTo) <= now || Date.parse(cert.validFrom) > now)
    throw new MoimError('SIGN_IN_FAILED', 'the client certificate is not valid now');
  const attributes: Record<string, unknown> = Object.create(null);
  for (const line of cert.subject.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) attributes[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return { provider: `x509:${cert.issuer}`, subject: cert.subject, serial: cert.serialNumber, attributes };
}

/** The person a certificate is: linked by issuer + subject DN (created on first sign-in from the claims map). */
export async function certificatePerson(
  store: AuthStore,
  cert: ClientCertificate,
  map: ClaimsMap,
): Promise<{ org: string; sub: string; profile: ReturnType<typeof mapClaims>['profile'] }> {
  const mapped = mapClaims(cert.attributes, map, cert.subject.split('\n')[0] ?? 'certificate');
  const link =
    (await store.linkOf(cert.provider, cert.subject)) ??
    (await store.addLink(cert.provider, cert.subject, mapped.org, personSub('x509', cert.provider, cert.subject)));
  const profile = (await store.account(link.org, link.sub)) ?? mapped.profile;
  await store.putAccount(link.org, link.sub, profile);
  return { org: link.org, sub: link.sub, profile };
}
