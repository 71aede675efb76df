/** The kinds of things a data-leak policy is set on. */
export type PolicyKind = 'room' | 'channel' | 'doc';

/** A data-leak policy (stored as JSON; policy/ContentPolicy.ts validates and applies it). */
export interface StoredContentPolicy {
  org: string;
  kind: PolicyKind;
  target: string;
  /** The policy's fields as stored JSON (validated by the service on read). */
  policy: Record<string, unknown>;
  updatedBy: string;
  updatedAt: number;
}

/** Data-leak policies per room, channel and document; absent = the defaults. */
export interface ContentPolicyStore {
  get(org: string, kind: PolicyKind, target: string): Promise<StoredContentPolicy | undefined>;
  /** Insert or replace the policy of one item. */
  put(p: StoredContentPolicy): Promise<void>;
}
