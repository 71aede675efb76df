import type { DocRef } from './DocStore.ts';

/**
 * A document's stored title (issue 15): free text (any language, NFC, trimmed, 1–200 characters,
 * checked by the service), kept beside the document's record, with who set it first and last.
 */
export interface StoredDocTitle extends DocRef {
  title: string;
  createdBy: string;
  createdAt: number;
  updatedBy: string;
  updatedAt: number;
}

/**
 * Titles of documents, per organisation and document name. A document without a row has no
 * stored title (it was made before titles were stored, or by a first `/yjs` writer). Every
 * operation names its organisation: a query never reaches another's rows.
 */
export interface DocTitleStore {
  get(ref: DocRef): Promise<StoredDocTitle | undefined>;
  /** The titles of those of `names` that have one, in one organisation (at most 1000 names a call). */
  getMany(org: string, names: readonly string[]): Promise<Map<string, StoredDocTitle>>;
  /**
   * Set the title (a rename keeps who created the title and when, and records who changed it and
   * when). Returns the stored row.
   */
  set(ref: DocRef, title: string, by: string, at: number): Promise<StoredDocTitle>;
  /** Remove the title (with its document). False when there was none. */
  delete(ref: DocRef): Promise<boolean>;
}

/** Most names `getMany` looks up in one query. */
export const DOC_TITLES_PER_QUERY = 1000;

/** `names` without repeats, in batches of at most DOC_TITLES_PER_QUERY (one query each). */
export function docTitleBatches(names: readonly string[]): string[][] {
  const unique = [...new Set(names)];
  const batches: string[][] = [];
  for (let i = 0; i < unique.length; i += DOC_TITLES_PER_QUERY) batches.push(unique.slice(i, i + DOC_TITLES_PER_QUERY));
  return batches;
}
