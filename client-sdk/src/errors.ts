/**
 * Turning failures into `MoimError`s: a request's acknowledgement (`unwrap`) and anything caught
 * (`toMoimError`, keeping a wire code when the error carries one).
 */
import type { Ack, ErrorCode } from '@moim/protocol';
import { isAckError, isErrorCode, MoimError } from '@moim/protocol/client';

export function unwrap<T>(ack: Ack<T>): T {
  if (isAckError(ack)) throw new MoimError(ack.error.code, ack.error.message);
  return ack.data;
}

export function toMoimError(err: unknown, fallback: ErrorCode): MoimError {
  if (err instanceof MoimError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  return new MoimError(isErrorCode(code) ? code : fallback, err instanceof Error ? err.message : String(err), {
    cause: err,
  });
}
