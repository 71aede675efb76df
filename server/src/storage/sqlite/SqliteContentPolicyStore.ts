/** Data-leak policies on SQLite (table content_policies, migration 0901). */
import type { ContentPolicyStore, PolicyKind, StoredContentPolicy } from '../ContentPolicyStore.ts';
import type { SqliteDb } from './SqliteDb.ts';

interface Row {
  policy: string;
  updated_by: string;
  updated_at: number;
}

export class SqliteContentPolicyStore implements ContentPolicyStore {
  readonly #db: SqliteDb;
  constructor(db: SqliteDb) {
    this.#db = db;
  }

  async get(org: string, kind: PolicyKind, target: string): Promise<StoredContentPolicy | undefined> {
    const r = this.#db.get<Row>(
      'SELECT policy, updated_by, updated_at FROM content_policies WHERE org = ? AND kind = ? AND target = ?',
      org,
      kind,
      target,
    );
    if (!r) return undefined;
    const policy = JSON.parse(r.policy) as Record<string, unknown>;
    return { org, kind, target, policy, updatedBy: r.updated_by, updatedAt: Number(r.updated_at) };
  }

  async put(p: StoredContentPolicy): Promise<void> {
    this.#db.run(
      `INSERT INTO content_policies (org, kind, target, policy, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (org, kind, target) DO UPDATE SET policy = excluded.policy, updated_by = excluded.updated_by,
       updated_at = excluded.updated_at`,
      p.org,
      p.kind,
      p.target,
      JSON.stringify(p.policy),
      p.updatedBy,
      p.updatedAt,
    );
  }
}
