/**
 * Chain anchors: the chain head (seq, hash) and a time, signed with the audit key. Kept in the
 * database (audit_anchors) and appended to a file outside it (MOIM_AUDIT_ANCHOR_FILE): a tail cut
 * from the database, anchors and all, is still caught by the file's anchors.
 */
import { sign, verify } from 'node:crypto';
import type { AuditAnchor } from '../storage/AuditStore.ts';
import type { AuditKey } from './auditKey.ts';

export const anchorMessage = (seq: number, hash: string, at: number): Buffer =>
  Buffer.from(`moim-audit-anchor-v1\n${seq}\n${hash}\n${at}`, 'utf8');

export function signAnchor(key: AuditKey, head: { seq: number; hash: string }, at: number): AuditAnchor {
  if (!key.privateKey) throw new Error('the audit key has no private part: cannot sign anchors');
  const signature = sign(null, anchorMessage(head.seq, head.hash, at), key.privateKey).toString('base64');
  return { at, seq: head.seq, hash: head.hash, keyId: key.keyId, signature };
}

export function anchorSignatureValid(key: AuditKey, a: AuditAnchor): boolean {
  return verify(null, anchorMessage(a.seq, a.hash, a.at), key.publicKey, Buffer.from(a.signature, 'base64'));
}

/** Parse an anchor file (JSON lines); unparsable lines are returned as problems. */
export function parseAnchorLines(text: string): { anchors: AuditAnchor[]; problems: string[] } {
  const anchors: AuditAnchor[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const a = JSON.parse(line) as Partial<AuditAnchor>;
      if (
        typeof a.at !== 'number' ||
        typeof a.seq !== 'number' ||
        typeof a.hash !== 'string' ||
        typeof a.keyId !== 'string' ||
        typeof a.signature !== 'string'
      )
        throw new Error('missing fields');
      anchors.push({ at: a.at, seq: a.seq, hash: a.hash, keyId: a.keyId, signature: a.signature });
    } catch (err) {
      problems.push(`anchor file line ${i + 1} is not an anchor: ${(err as Error).message}`);
    }
  });
  return { anchors, problems };
}
