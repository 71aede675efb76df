/**
 * Approval documents, delegations and telework request days on PostgreSQL (the ApprovalStore of
 * a cluster). The operations are the shared ones (approvalSql.ts), driven over one transaction's
 * connection; their `?` placeholders become `$n` here. Of two nodes deciding one step at once,
 * the second's conditional UPDATE waits for the first's row lock, re-reads the row and finds the
 * version moved: exactly one decision commits. Seat allocation and a person's quota are
 * serialized by transaction-scoped advisory locks.
 */
import { driveAsync, type Row, SqlApprovalStore } from '../approvalSql.ts';
import type { PgDb } from './PgDb.ts';

const numbered = new Map<string, string>();

/** `?` → `$1`, `$2`… (the shared statements contain no literal `?`). */
function toPg(sql: string): string {
  let out = numbered.get(sql);
  if (out === undefined) {
    let i = 0;
    out = sql.replace(/\?/g, () => `$${++i}`);
    if (numbered.size > 2000) numbered.clear(); // statements differ only by their IN-list lengths
    numbered.set(sql, out);
  }
  return out;
}

export class PgApprovalStore extends SqlApprovalStore {
  constructor(db: PgDb) {
    super((steps, { tx }) =>
      tx
        ? db.tx((t) => driveAsync(steps(), (op) => t.query<Row>(toPg(op.sql), op.params)))
        : driveAsync(steps(), (op) => db.query<Row>(toPg(op.sql), op.params)),
    );
  }
}
