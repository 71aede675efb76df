/**
 * The per-person limits of a cluster (cluster/RedisPersonLimits.ts): connection counts and a
 * rate budget shared with the other nodes. Unset on a single node, where the gateway's
 * `PersonLimits` is all. Here in lib/ because the gateway and the documents service both use it.
 */
export interface SharedPersonLimits {
  /**
   * Count one more connection of `kind` (`socket`, `yjs`) for the person on every node together:
   * false when they have `cap` already. Resolves true when the shared count cannot be reached in
   * time: the node's own cap still holds, and the count is written back once Redis answers.
   */
  claim(kind: string, key: string, cap: number): Promise<boolean>;
  /** Uncount a connection `claim` counted. */
  release(kind: string, key: string): void;
}
