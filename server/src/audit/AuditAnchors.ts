import { appendFile } from 'node:fs/promises';
import type { Logger } from '../logger.ts';
import type { AuditStore } from '../storage/AuditStore.ts';
import { signAnchor } from './anchors.ts';
import type { AuditKey } from './auditKey.ts';

export interface AuditAnchorsOptions {
  store: AuditStore;
  key: AuditKey;
  /** The file outside the database the anchors are appended to (JSON lines). */
  file: string;
  /** How often the head is anchored (only when it moved). */
  intervalMs: number;
  log: Logger;
}

/**
 * Signs the audit chain's head periodically (and once more at close) and keeps the anchor in the
 * database and in a file outside it. A tail cut after the last anchor is not detectable: the
 * interval bounds what can go unnoticed.
 */
export class AuditAnchors {
  readonly #o: AuditAnchorsOptions;
  #timer: NodeJS.Timeout | undefined;
  #lastSeq = -1;
  #running: Promise<void> | undefined;

  constructor(o: AuditAnchorsOptions) {
    this.#o = o;
  }

  start(): void {
    this.#timer = setInterval(() => {
      void this.anchorNow().catch((err: unknown) =>
        this.#o.log.error({ err }, 'audit: anchoring the chain head failed'),
      );
    }, this.#o.intervalMs);
    this.#timer.unref();
  }

  /** Anchor the current head now (if it moved since the last anchor); returns its seq. */
  async anchorNow(): Promise<number> {
    // one at a time: a tick during a slow database waits for the anchor under way
    while (this.#running) await this.#running;
    let seq = this.#lastSeq;
    this.#running = (async () => {
      const head = await this.#o.store.head();
      if (head.seq === this.#lastSeq || head.seq === 0) return;
      const anchor = signAnchor(this.#o.key, head, Date.now());
      // the file first: it is the copy an intruder in the database cannot reach
      await appendFile(this.#o.file, `${JSON.stringify(anchor)}\n`, { mode: 0o600 });
      await this.#o.store.addAnchor(anchor);
      this.#lastSeq = head.seq;
      seq = head.seq;
    })();
    try {
      await this.#running;
    } finally {
      this.#running = undefined;
    }
    return seq;
  }

  /** Stop the timer and anchor the final head (before the stores close). */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.anchorNow();
  }
}
