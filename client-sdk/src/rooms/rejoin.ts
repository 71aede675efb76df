/**
 * The retry policy of a room's rejoin (after a reconnect or a dead worker): a number of attempts
 * with a doubling delay, given up on when a newer run starts, the room closes or the connection
 * drops (the reconnect restores the room then). `Room` does each attempt and closes when all fail.
 */
import type { MoimError } from '@moim/protocol/client';
import type { Logger } from '../logger.ts';
import { toMoimError } from '../MoimClient.ts';

export interface RejoinPolicy {
  /** Attempts in all (at least one). */
  attempts: number;
  /** Wait before the second attempt; doubles for each further one. */
  delayMs: number;
  /** Why the room rejoins (for the log and the final error). */
  why: string;
  log: Logger;
  attempt(): Promise<void>;
  /** The room closed or a newer run started: stop without a verdict. */
  stale(): boolean;
  connected(): boolean;
  giveUp(attempts: number, error: MoimError): void;
}

export async function retryRejoin(p: RejoinPolicy): Promise<void> {
  const attempts = Math.max(1, p.attempts);
  const { why } = p;
  for (let attempt = 1; ; attempt++) {
    try {
      await p.attempt();
      return;
    } catch (err) {
      const error = toMoimError(err, 'MEDIA_ERROR');
      if (p.stale()) return;
      if (!p.connected()) {
        p.log.info('rejoin interrupted by a dropped connection; the reconnect restores the room', {
          why,
          attempt,
          error,
        });
        return;
      }
      if (attempt >= attempts) {
        p.giveUp(attempt, error);
        return;
      }
      const delayMs = p.delayMs * 2 ** (attempt - 1);
      p.log.warn('rejoin failed; retrying', { why, attempt, attempts, delayMs, error });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (p.stale()) return;
    }
  }
}
