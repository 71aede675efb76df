import type { ErrorCode } from '@moim/protocol';
import { KeyedRateLimiter, TokenBucket } from '../lib/RateLimiter.ts';
import type { Logger } from '../logger.ts';
import type { AuditStore } from '../storage/AuditStore.ts';

/**
 * Failed sign-ins (a socket.io handshake whose token is refused) into the audit log, bounded: at
 * most `perAddressPerMin` entries per client address a minute and 20 a second in all, so a flood
 * of bad tokens cannot fill the log or hold the chain's lock. What is over the bound is counted
 * and logged, not stored.
 */
export class RefusalAudit {
  readonly #audit: AuditStore;
  readonly #log: Logger;
  readonly #perAddress: KeyedRateLimiter;
  readonly #all = new TokenBucket(20, 40);
  #dropped = 0;

  constructor(o: { audit: AuditStore; log: Logger; perAddressPerMin: number }) {
    this.#audit = o.audit;
    this.#log = o.log;
    this.#perAddress = new KeyedRateLimiter(o.perAddressPerMin / 60, o.perAddressPerMin);
  }

  refused(address: string, code: ErrorCode, via: string): void {
    if (!this.#perAddress.take(address) || !this.#all.take()) {
      this.#dropped++;
      if (this.#dropped % 100 === 1)
        this.#log.warn(
          { address, code, via, dropped: this.#dropped },
          'audit: refused sign-ins over the bound, not stored',
        );
      return;
    }
    this.#audit
      .append({ actor: 'anonymous', action: 'auth.refused', detail: { code, via, address } })
      .catch((err: unknown) => this.#log.error({ err, address, code }, 'audit: a refused sign-in could not be stored'));
  }
}
