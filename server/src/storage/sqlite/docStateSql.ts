/**
 * A document's compacted state on SQLite (migration 0213): in `doc_states`, apart from the
 * document's row, which every append touches. A compaction bumps the row's `state_seq` if it is
 * still the one the compaction read (else another compaction won, and this one writes nothing),
 * then puts the state. Shared by the append worker (docAppendWorker.ts) and SqliteDocStore's
 * in-thread path; dependency-free on purpose. A state larger than one part is written by the worker
 * in parts first (migration 0215), then switched to in the compaction's transaction.
 */
export const BUMP_STATE_SEQ = 'UPDATE docs SET state_seq = state_seq + 1 WHERE org = ? AND name = ? AND state_seq = ?';
/** A state in the row (`parts` 0); the parts of an earlier state go with DROP_STATE_PARTS in the same transaction. */
export const PUT_STATE =
  'INSERT INTO doc_states (org, name, state) VALUES (?, ?, ?) ON CONFLICT (org, name) DO UPDATE SET state = excluded.state, parts = 0, gen = 0';
/** A state in `parts` rows of doc_state_parts under `gen` (migration 0215; docVersionParts.ts). */
export const PUT_STATE_IN_PARTS = `INSERT INTO doc_states (org, name, state, parts, gen) VALUES (?, ?, x'', ?, ?)
  ON CONFLICT (org, name) DO UPDATE SET state = excluded.state, parts = excluded.parts, gen = excluded.gen`;
/** The document's state parts but those of generation ? (-1: all). */
export const DROP_STATE_PARTS = 'DELETE FROM doc_state_parts WHERE org = ? AND name = ? AND gen <> ?';
/** The state parts of one generation (a compaction's that lost or failed). */
export const DROP_STATE_PARTS_OF = 'DELETE FROM doc_state_parts WHERE org = ? AND name = ? AND gen = ?';
export const INSERT_STATE_PART = 'INSERT INTO doc_state_parts (org, name, gen, n, data) VALUES (?, ?, ?, ?, ?)';
export const STATE_PARTS = 'SELECT data FROM doc_state_parts WHERE org = ? AND name = ? AND gen = ? ORDER BY n';
/** Parts no state row points at: a compaction that lost, failed or was cut short by a crash. */
export const DROP_ORPHAN_STATE_PARTS = `DELETE FROM doc_state_parts WHERE NOT EXISTS (SELECT 1 FROM doc_states s
  WHERE s.org = doc_state_parts.org AND s.name = doc_state_parts.name AND s.parts > 0 AND s.gen = doc_state_parts.gen)`;
export const DROP_MERGED_UPDATES = 'DELETE FROM doc_updates WHERE doc_org = ? AND doc_name = ? AND id <= ?';
