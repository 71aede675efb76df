import { MoimError } from '@moim/protocol';
import type { Principal } from './Principal.ts';
import { STRONG_METHODS } from './Sessions.ts';

/**
 * Step-up for sensitive actions (approval decisions, recording downloads, policy changes): the
 * caller's session must show a strong factor (`amr` has `passkey` or `x509`) proven within
 * `maxAgeS` (`auth_time`). Only moim's own session tokens carry these (TokenService keeps an
 * outside issuer's `amr` out). Other code calls `require(principal)`.
 */
export class StepUp {
  readonly required: boolean;
  readonly maxAgeS: number;
  constructor(opts: { required: boolean; maxAgeS: number }) {
    this.required = opts.required;
    this.maxAgeS = opts.maxAgeS;
  }

  /** True when the principal proved a strong factor recently enough. */
  fresh(principal: Principal, now: number = Date.now()): boolean {
    const t = principal.token;
    if (!t.amr?.some((m) => STRONG_METHODS.includes(m)) || t.auth_time === undefined) return false;
    return now / 1000 - t.auth_time <= this.maxAgeS;
  }

  /** STEP_UP_REQUIRED unless step-up is off or the principal's second factor is fresh. */
  require(principal: Principal, action: string): void {
    if (!this.required || this.fresh(principal)) return;
    throw new MoimError(
      'STEP_UP_REQUIRED',
      `${action} needs a passkey or certificate confirmation from the last ${this.maxAgeS} s (POST /auth/step-up/…)`,
    );
  }
}
