/**
 * Who may do what with a document: the grant checks of the HTTP operations (read, write, owner or
 * admin), the checks of a `/yjs` request (document name, token, grant), and what a refreshed token
 * still allows an open connection. Functions over a `Principal`, without state; every document
 * they name is in the namespace of the caller's organisation.
 */
import { type DocPolicy, docNameSchema, MoimError } from '@moim/protocol';
import { Principal } from '../auth/Principal.ts';
import type { TokenService } from '../auth/TokenService.ts';
import type { DocRecord, DocRef } from '../storage/DocStore.ts';
import type { DocConnection, YjsCloseReason } from './DocConnection.ts';

export type DocAccess = 'read' | 'write';

/** The policy of a document created without one (by an HTTP create or a first `/yjs` writer). */
export const DEFAULT_POLICY: DocPolicy = { exportAllowed: true };

/** A document of the caller's organisation. */
export function refOf(principal: Principal, name: string): DocRef {
  return { org: principal.token.org, name };
}

/** What the principal's grants allow on the document `name`, if anything. */
export function accessOf(principal: Principal, name: string): DocAccess | undefined {
  if (principal.hasDoc(name, 'write')) return 'write';
  if (principal.hasDoc(name, 'read')) return 'read';
  return undefined;
}

/** The principal's access to `name`; FORBIDDEN when it is less than `need`. */
export function requireAccess(principal: Principal, name: string, need: DocAccess): DocAccess {
  const access = accessOf(principal, name);
  if (!access || (need === 'write' && access !== 'write')) {
    throw new MoimError('FORBIDDEN', `no ${need} grant for document ${name}`);
  }
  return access;
}

export function requireOwnerOrAdmin(principal: Principal, record: DocRecord): void {
  if (record.owner !== principal.sub && !principal.isAdmin) {
    throw new MoimError('FORBIDDEN', 'only the owner or an admin may do this');
  }
}

/** A `/yjs` request that passed the checks, or the close reason (and detail) refusing it. */
export type UpgradeCheck =
  | { ok: true; principal: Principal; name: string; canWrite: boolean }
  | { ok: false; reason: YjsCloseReason; detail?: string };

/**
 * Check a `/yjs/<docName>?token=` request: a valid document name (else 4404), a valid token (else
 * 4401 with the token's error code) and a read or write grant for the document (else 4403).
 */
export function checkUpgrade(url: URL, tokens: TokenService): UpgradeCheck {
  let name: string;
  try {
    name = decodeURIComponent(url.pathname.slice('/yjs/'.length));
  } catch {
    // a malformed percent-escape: no document has such a name
    return { ok: false, reason: 'NOT_FOUND', detail: 'bad document name' };
  }
  if (!docNameSchema.safeParse(name).success) return { ok: false, reason: 'NOT_FOUND', detail: 'bad document name' };
  let principal: Principal;
  try {
    principal = new Principal(tokens.verify(url.searchParams.get('token') ?? undefined));
  } catch (err) {
    const code = err instanceof MoimError ? err.code : 'TOKEN_INVALID';
    return { ok: false, reason: 'UNAUTHORIZED', detail: code };
  }
  // the document lives in the namespace of the token's organisation: grants name documents there
  const canWrite = principal.hasDoc(name, 'write');
  if (!canWrite && !principal.hasDoc(name, 'read')) {
    return { ok: false, reason: 'FORBIDDEN', detail: `no grant for ${name}` };
  }
  return { ok: true, principal, name, canWrite };
}

/**
 * What a refreshed token means for an open connection of the same person: undefined when it still
 * allows what the connection does; lost read (or another organisation): 4403; lost write only:
 * 4500, so a client that reconnects with its fresh token comes back read-only.
 */
export function reauthorizedClose(
  conn: DocConnection,
  next: Principal,
): { reason: YjsCloseReason; detail: string } | undefined {
  const sameOrg = next.token.org === conn.org;
  if (!sameOrg || !(next.hasDoc(conn.docName, 'read') || next.hasDoc(conn.docName, 'write'))) {
    return { reason: 'FORBIDDEN', detail: 'the refreshed token no longer grants this document' };
  }
  if (conn.canWrite && !next.hasDoc(conn.docName, 'write')) {
    return { reason: 'RELOAD', detail: 'the refreshed token no longer grants writing' };
  }
  return undefined;
}
