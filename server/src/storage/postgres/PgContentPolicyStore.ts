/** Data-leak policies on PostgreSQL (table content_policies, migration 0901), as on SQLite. */
import type { ContentPolicyStore, PolicyKind, StoredContentPolicy } from '../ContentPolicyStore.ts';
import type { PgDb } from './PgDb.ts';

interface Row {
  policy: string;
  updated_by: string;
  updated_at: string;
}

export class PgContentPolicyStore implements ContentPolicyStore {
  readonly #db: PgDb;
  constructor(db: PgDb) {
    this.#db = db;
  }

  async get(org: string, kind: PolicyKind, target: string): Promise<StoredContentPolicy | undefined> {
    const rows = await this.#db.query<Row>(
      'SELECT policy, updated_by, updated_at FROM content_policies WHERE org = $1 AND kind = $2 AND target = $3',
      [org, kind, target],
    );
    const r = rows[0];
    if (!r) return undefined;
    const policy = JSON.parse(r.policy) as Record<string, unknown>;
    return { org, kind, target, policy, updatedBy: r.updated_by, updatedAt: Number(r.updated_at) };
  }

  async put(p: StoredContentPolicy): Promise<void> {
    await this.#db.query(
      `INSERT INTO content_policies (org, kind, target, policy, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (org, kind, target) DO UPDATE SET policy = excluded.policy, updated_by = excluded.updated_by,
       updated_at = excluded.updated_at`,
      [p.org, p.kind, p.target, JSON.stringify(p.policy), p.updatedBy, p.updatedAt],
    );
  }
}
