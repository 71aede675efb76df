/**
 * The one place where the SFU's own errors (`SfuError`, thrown deep in `@moim/sfu`) become wire
 * error codes. The table is exhaustive over `SfuErrorCode`, so a new SFU error fails to compile
 * until it is mapped here. Applied to every media request at the gateway edge (`mediaHandlers.ts`).
 */
import { type ErrorCode, MoimError } from '@moim/protocol';
import { SfuError, type SfuErrorCode } from '@moim/sfu';

const WIRE_CODE: Record<SfuErrorCode, ErrorCode> = {
  ROOM_FULL: 'ROOM_FULL',
  ROOM_CLOSED: 'ROOM_CLOSED',
  NOT_IN_ROOM: 'NOT_IN_ROOM',
  NOT_FOUND: 'NOT_FOUND',
  FORBIDDEN: 'FORBIDDEN',
  INVALID_PAYLOAD: 'INVALID_PAYLOAD',
  CONFLICT: 'CONFLICT',
  TOO_MANY_TRANSPORTS: 'TOO_MANY_TRANSPORTS',
  TOO_MANY_PRODUCERS: 'TOO_MANY_PRODUCERS',
  ENCODINGS_NOT_ALLOWED: 'ENCODINGS_NOT_ALLOWED',
  CODEC_NOT_ALLOWED: 'CODEC_NOT_ALLOWED',
  BITRATE_NOT_ALLOWED: 'BITRATE_NOT_ALLOWED',
  CANNOT_CONSUME: 'CANNOT_CONSUME',
  MEDIA_ERROR: 'MEDIA_ERROR',
};

/** `err` as the client should see it: an SfuError becomes a MoimError with its wire code; anything else is unchanged. */
export function toWireError(err: unknown): unknown {
  if (err instanceof SfuError) return new MoimError(WIRE_CODE[err.code], err.message, { cause: err });
  return err;
}

/** Wrap every handler of `table` so the SFU's errors reach the client with their wire code. */
export function withWireErrors<T extends object>(table: T): T {
  const wrapped: Record<string, (...args: never[]) => unknown> = {};
  for (const [name, handler] of Object.entries(table) as [string, (...args: never[]) => unknown][]) {
    wrapped[name] = async (...args: never[]) => {
      try {
        return await handler(...args);
      } catch (err) {
        throw toWireError(err);
      }
    };
  }
  return wrapped as T;
}
