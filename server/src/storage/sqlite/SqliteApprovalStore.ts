/**
 * Approval documents, delegations and telework request days on SQLite (the ApprovalStore of a
 * single node). The operations are the shared ones (approvalSql.ts), driven synchronously: a
 * writing operation runs inside one `BEGIN IMMEDIATE` transaction, so nothing interleaves with
 * its reads and conditional updates, and of two deciders exactly one finds the version it read.
 */
import { driveSync, type Row, SqlApprovalStore } from '../approvalSql.ts';
import type { SqliteDb } from './SqliteDb.ts';

export class SqliteApprovalStore extends SqlApprovalStore {
  constructor(db: SqliteDb) {
    super(async (steps, { tx }) => {
      const body = () => driveSync(steps(), (op) => db.all<Row>(op.sql, ...op.params));
      return tx ? db.tx(body) : body();
    });
  }
}
