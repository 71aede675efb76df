/**
 * Document titles (issue 15): free text stored beside a document's name, checked at the edge
 * (`parseDocTitle`), looked up for a page of the list at once, and the name the server picks for a
 * document created with a title only. Owns no state besides its store; who may set a title is the
 * DocService's to check.
 */
import { randomBytes } from 'node:crypto';
import {
  type DocInfo,
  docNameSchema,
  docTitleProblem,
  legacyDocTitle,
  MoimError,
  normalizeDocTitle,
} from '@moim/protocol';
import type { DocRef } from '../storage/DocStore.ts';
import type { DocTitleStore, StoredDocTitle } from '../storage/DocTitleStore.ts';

/** A title as sent, normalised (NFC, trimmed) and checked: INVALID_TITLE with the reason otherwise. */
export function parseDocTitle(raw: string): string {
  const title = normalizeDocTitle(raw);
  const problem = docTitleProblem(title);
  if (problem) throw new MoimError('INVALID_TITLE', problem);
  return title;
}

/** Names that mean something of their own: a meeting's notes, and the first titled documents' `t.` names. */
const RESERVED_NAME_RE = /^(?:t\.|room-.+-notes$)/;

/**
 * The title itself as the document's name, when it is a valid name that means nothing else
 * (compatibility: clients that address documents by a Latin title keep doing so); else undefined.
 */
export function titleAsName(title: string): string | undefined {
  if (!docNameSchema.safeParse(title).success) return undefined;
  return RESERVED_NAME_RE.test(title) ? undefined : title;
}

/** A short name nobody chose: `d-` and 12 random base64url characters (72 bits). */
export function randomDocName(): string {
  return `d-${randomBytes(9).toString('base64url')}`;
}

/** What a document's info says of its title. */
export type TitleFields = Pick<DocInfo, 'title' | 'titledBy' | 'titledAt'>;

/** The title fields of a document: its stored title, else the title its `t.` name carries, else none. */
export function titleFields(name: string, stored: StoredDocTitle | undefined): TitleFields {
  if (stored) return { title: stored.title, titledBy: stored.updatedBy, titledAt: stored.updatedAt };
  const legacy = legacyDocTitle(name);
  return legacy === undefined ? {} : { title: legacy };
}

export class DocTitles {
  readonly #store: DocTitleStore;
  constructor(store: DocTitleStore) {
    this.#store = store;
  }

  get(ref: DocRef): Promise<StoredDocTitle | undefined> {
    return this.#store.get(ref);
  }

  /** The stored titles of a page of one organisation's documents. */
  getMany(org: string, names: readonly string[]): Promise<Map<string, StoredDocTitle>> {
    return names.length === 0 ? Promise.resolve(new Map()) : this.#store.getMany(org, names);
  }

  set(ref: DocRef, title: string, by: string): Promise<StoredDocTitle> {
    return this.#store.set(ref, title, by, Date.now());
  }

  delete(ref: DocRef): Promise<boolean> {
    return this.#store.delete(ref);
  }
}
