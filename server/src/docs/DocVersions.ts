/**
 * Versions of one loaded document: when it first changed after its last version, the automatic
 * version due after `versionIntervalMs` of changes (and on unload), and saving a named version.
 * The owner of the document (DocService) drives the automatic ones from one shared timer.
 */
import * as Y from 'yjs';
import type { Logger } from '../logger.ts';
import type { DocRef, DocStore, StoredDocVersion } from '../storage/DocStore.ts';
import type { DocumentLimits } from './DocumentOptions.ts';

export class DocVersions {
  readonly #ref: DocRef;
  readonly #ydoc: Y.Doc;
  readonly #store: DocStore;
  readonly #log: Logger;
  /** `versionIntervalMs`: an automatic version at most this often while the document changes; 0 = off. */
  readonly #limits: Pick<DocumentLimits, 'versionIntervalMs'>;
  /** When the document first changed after its last version (ms since the epoch; 0: unchanged). */
  #dirtySince = 0;

  constructor(opts: {
    ref: DocRef;
    ydoc: Y.Doc;
    store: DocStore;
    log: Logger;
    limits: Pick<DocumentLimits, 'versionIntervalMs'>;
  }) {
    this.#ref = opts.ref;
    this.#ydoc = opts.ydoc;
    this.#store = opts.store;
    this.#log = opts.log;
    this.#limits = opts.limits;
  }

  /** The document changed (a group commit was broadcast). */
  markDirty(): void {
    if (this.#dirtySince === 0) this.#dirtySince = Date.now();
  }

  /** Save an automatic version when the document has changed for the interval since its last one. */
  saveIfDue(now: number): void {
    const interval = this.#limits.versionIntervalMs;
    if (interval <= 0 || this.#dirtySince === 0 || now - this.#dirtySince < interval) return;
    this.#saveAuto().catch((err: unknown) =>
      this.#log.error({ err, org: this.#ref.org, doc: this.#ref.name }, 'automatic version failed'),
    );
  }

  /**
   * On unload: an automatic version if the document changed since the last one (failures are
   * logged); undefined when none is due.
   */
  saveOnUnload(): Promise<void> | undefined {
    if (this.#dirtySince === 0 || this.#limits.versionIntervalMs <= 0) return undefined;
    return this.#saveAuto().catch((err: unknown) =>
      this.#log.error({ err, org: this.#ref.org, doc: this.#ref.name }, 'automatic version on unload failed'),
    );
  }

  /** Save a version of `state` (the committed state of the document). */
  async save(state: Uint8Array, input: { label: string; auto: boolean; createdBy: string }): Promise<StoredDocVersion> {
    const version = await this.#store.saveVersion({ doc: this.#ref, state, ...input });
    this.#dirtySince = 0;
    return version;
  }

  async #saveAuto(): Promise<void> {
    this.#dirtySince = 0;
    const state = Y.encodeStateAsUpdate(this.#ydoc);
    await this.#store.saveVersion({
      doc: this.#ref,
      label: `auto ${new Date().toISOString()}`,
      auto: true,
      createdBy: 'system',
      state,
    });
  }
}
