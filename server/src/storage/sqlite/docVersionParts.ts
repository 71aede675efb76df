/**
 * Large document versions on SQLite (migration 0214; compacted states likewise, migration 0215 and
 * docStateSql.ts): a version whose state is larger than one part is written in parts, each in its
 * own transaction, by the append worker (docAppendWorker.ts), which commits the appends queued
 * meanwhile between two parts. One transaction holding a 10 MB state kept SQLite's only write lock
 * for tens of milliseconds (31–68 ms measured, bench/version-stall.ts), and every document's appends
 * waited behind it.
 *
 * `doc_versions.parts`: 0 the state is in the row; n > 0 the row's state is empty and the state is
 * the n rows of `doc_version_parts` in order; -1 the parts are still being written. Readers see
 * only finished versions (`getVersion` by `parts >= 0`, the list through `WRITING_IDS`); a version
 * left at -1 by a crash is removed when the store opens (`DROP_UNFINISHED_VERSIONS`).
 * Dependency-free on purpose (the worker imports it).
 */

/** Bytes of one part: a few milliseconds of commit on this kind of disk. */
export const VERSION_PART_BYTES = 1024 * 1024;

/** Versions being written have this many parts. */
export const WRITING = -1;

export const INSERT_VERSION =
  'INSERT INTO doc_versions (doc_org, doc_name, label, auto, created_at, created_by, bytes, state, parts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)';
export const INSERT_VERSION_PART = 'INSERT INTO doc_version_parts (version_id, n, data) VALUES (?, ?, ?)';
/** The version's parts are all written: readers see it from now on. */
export const FINISH_VERSION = `UPDATE doc_versions SET parts = ? WHERE id = ? AND parts = ${WRITING}`;
export const VERSION_PARTS = 'SELECT data FROM doc_version_parts WHERE version_id = ? ORDER BY n';
export const DROP_VERSION_PARTS = 'DELETE FROM doc_version_parts WHERE version_id = ?';
export const DROP_VERSION = 'DELETE FROM doc_versions WHERE id = ?';
/**
 * Versions being written, through the partial index `doc_versions_writing` (`parts < 0`): reading
 * `parts` row by row would walk every state's overflow pages (the column comes after the state).
 */
export const WRITING_IDS = 'SELECT id FROM doc_versions WHERE parts < 0';
/** A crash left these half-written: their parts, then their rows. */
export const DROP_UNFINISHED_VERSIONS = [
  `DELETE FROM doc_version_parts WHERE version_id IN (${WRITING_IDS})`,
  `DELETE FROM doc_versions WHERE id IN (${WRITING_IDS})`,
] as const;
/** The parts of every version of a document (deleted with it). */
export const DROP_DOC_VERSION_PARTS =
  'DELETE FROM doc_version_parts WHERE version_id IN (SELECT id FROM doc_versions WHERE doc_org = ? AND doc_name = ?)';

/** The state read back from its parts (`bytes`: what its row says it holds, checked). */
export function joinParts(parts: readonly Uint8Array[], bytes?: number): Uint8Array {
  const out = new Uint8Array(bytes ?? parts.reduce((a, p) => a + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  if (at !== out.byteLength) throw new Error(`document state: its parts hold ${at} bytes, its row says ${bytes}`);
  return out;
}
