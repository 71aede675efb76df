/**
 * Verify the audit chain: every row's hash against its content, every link (`prev_hash`) against
 * the row before, no seq missing, the head row against the chain's end, and every anchor (database
 * and file) against its signature and the row it names. Names the first altered row.
 */
import type { AuditAnchor, AuditChainRow, AuditStore } from '../storage/AuditStore.ts';
import { GENESIS_HASH, rowHash } from '../storage/auditChain.ts';
import { anchorSignatureValid } from './anchors.ts';
import type { AuditKey } from './auditKey.ts';

export interface ChainProblem {
  /** The chain position concerned (the first altered row when `kind` says a row). */
  seq: number;
  /** The row's id in audit_log, when there is such a row. */
  id?: number;
  kind: 'altered' | 'rehashed' | 'missing' | 'cut-tail' | 'head' | 'anchor-forged' | 'anchor-key' | 'anchor-mismatch';
  message: string;
}

export interface ChainReport {
  ok: boolean;
  /** Rows checked (chained rows). */
  rows: number;
  /** Rows written before the chain existed: not verifiable. */
  unchained: number;
  lastSeq: number;
  anchorsChecked: number;
  /** The first problem of the rows (the first altered row), then any anchor problems. */
  problems: ChainProblem[];
}

export async function verifyChain(
  store: Pick<AuditStore, 'chain' | 'head' | 'anchors' | 'unchainedCount'>,
  opts: { keys: AuditKey[]; fileAnchors?: AuditAnchor[]; pageSize?: number },
): Promise<ChainReport> {
  const anchors = [...(await store.anchors()), ...(opts.fileAnchors ?? [])];
  const anchoredSeqs = new Set(anchors.map((a) => a.seq));
  const hashAt = new Map<number, string>();
  const problems: ChainProblem[] = [];
  let prev: AuditChainRow | undefined;
  let prevHash = GENESIS_HASH;
  let expect = 1;
  let rows = 0;
  let rowProblem: ChainProblem | undefined;
  const page = opts.pageSize ?? 1000;
  for (;;) {
    const batch = await store.chain({ afterSeq: expect - 1, limit: page });
    if (batch.length === 0) break;
    for (const row of batch) {
      const seq = row.seq ?? 0;
      rows++;
      if (!rowProblem) rowProblem = checkRow(row, seq, expect, prevHash, prev);
      if (anchoredSeqs.has(seq) && row.hash) hashAt.set(seq, row.hash);
      prev = row;
      prevHash = row.hash ?? '';
      expect = seq + 1;
    }
    if (batch.length < page) break;
  }
  if (rowProblem) problems.push(rowProblem);
  const lastSeq = expect - 1;
  const head = await store.head();
  if (!rowProblem && (head.seq !== lastSeq || (lastSeq > 0 && head.hash !== prevHash)))
    problems.push({
      seq: head.seq,
      kind: head.seq > lastSeq ? 'cut-tail' : 'head',
      message: `the chain head says seq ${head.seq} but the chain ends at seq ${lastSeq}${head.seq > lastSeq ? ': rows were cut from the end' : ''}`,
    });
  const keys = new Map(opts.keys.map((k) => [k.keyId, k]));
  for (const a of anchors) {
    const key = keys.get(a.keyId);
    if (!key) {
      problems.push({
        seq: a.seq,
        kind: 'anchor-key',
        message: `anchor of seq ${a.seq} is signed by unknown key ${a.keyId}`,
      });
      continue;
    }
    if (!anchorSignatureValid(key, a)) {
      problems.push({
        seq: a.seq,
        kind: 'anchor-forged',
        message: `anchor of seq ${a.seq}: the signature is not valid`,
      });
      continue;
    }
    if (a.seq > lastSeq) {
      problems.push({
        seq: a.seq,
        kind: 'cut-tail',
        message: `anchor signed at ${new Date(a.at).toISOString()} names seq ${a.seq}, but the chain ends at seq ${lastSeq}: rows ${lastSeq + 1}–${a.seq} were cut`,
      });
    } else if (hashAt.get(a.seq) !== a.hash) {
      problems.push({
        seq: a.seq,
        kind: 'anchor-mismatch',
        message: `row seq ${a.seq} does not have the hash its signed anchor names: the chain up to it was rewritten`,
      });
    }
  }
  return {
    ok: problems.length === 0,
    rows,
    unchained: await store.unchainedCount(),
    lastSeq,
    anchorsChecked: anchors.length,
    problems: dedupe(problems),
  };
}

function checkRow(
  row: AuditChainRow,
  seq: number,
  expect: number,
  prevHash: string,
  prev: AuditChainRow | undefined,
): ChainProblem | undefined {
  if (seq !== expect)
    return {
      seq: expect,
      kind: 'missing',
      message: `row seq ${expect}${expect === seq - 1 ? '' : `–${seq - 1}`} is missing (deleted); the chain resumes at seq ${seq} (id ${row.id})`,
    };
  const computed = rowHash({
    seq,
    at: row.at,
    org: row.org,
    actor: row.actor,
    action: row.action,
    target: row.target,
    detail: row.detail,
    prevHash: row.prevHash ?? '',
  });
  if (computed !== row.hash)
    return {
      seq,
      id: row.id,
      kind: 'altered',
      message: `row seq ${seq} (id ${row.id}, ${row.action}) was altered: its content does not match its hash`,
    };
  if (row.prevHash !== prevHash) {
    // the row itself is consistent but does not link to the one before: that one was altered and
    // given a new hash (this row still holds the original)
    if (prev)
      return {
        seq: seq - 1,
        id: prev.id,
        kind: 'rehashed',
        message: `row seq ${seq - 1} (id ${prev.id}, ${prev.action}) was altered and rehashed: row seq ${seq} still links to its original hash`,
      };
    return {
      seq,
      id: row.id,
      kind: 'altered',
      message: `row seq ${seq} (id ${row.id}) does not start from the genesis hash`,
    };
  }
  return undefined;
}

function dedupe(problems: ChainProblem[]): ChainProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.kind}:${p.seq}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
