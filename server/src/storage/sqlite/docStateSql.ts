/**
 * A document's compacted state on SQLite (migration 0213): in `doc_states`, apart from the
 * document's row, which every append touches. A compaction bumps the row's `state_seq` if it is
 * still the one the compaction read (else another compaction won, and this one writes nothing),
 * then puts the state. Shared by the append worker (docAppendWorker.ts) and SqliteDocStore's
 * in-thread path; dependency-free on purpose.
 */
export const BUMP_STATE_SEQ = 'UPDATE docs SET state_seq = state_seq + 1 WHERE org = ? AND name = ? AND state_seq = ?';
export const PUT_STATE =
  'INSERT INTO doc_states (org, name, state) VALUES (?, ?, ?) ON CONFLICT (org, name) DO UPDATE SET state = excluded.state';
export const DROP_MERGED_UPDATES = 'DELETE FROM doc_updates WHERE doc_org = ? AND doc_name = ? AND id <= ?';
