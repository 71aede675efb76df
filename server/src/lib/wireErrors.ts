/**
 * The one place where internal errors become wire error codes: the SFU's own errors (`SfuError`,
 * thrown deep in `@moim/sfu`) and the stores' typed errors (`StoreClosedError`,
 * `StoreUnavailableError`, a full disk). The socket.io gateway and the HTTP router apply it to
 * whatever a handler throws; anything it does not know stays INTERNAL (and is logged there).
 * The SFU table is exhaustive over `SfuErrorCode`, so a new SFU error fails to compile until it is
 * mapped here.
 */
import { type ErrorCode, MoimError } from '@moim/protocol';
import { SfuError, type SfuErrorCode } from '@moim/sfu';
import { StoreClosedError, StoreUnavailableError, storageError } from '../storage/storageErrors.ts';

const SFU_CODE: Record<SfuErrorCode, ErrorCode> = {
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

/**
 * `err` as the client should see it, or undefined when it is an unexpected error (the caller logs
 * it and answers INTERNAL).
 */
export function toWireError(err: unknown): MoimError | undefined {
  if (err instanceof MoimError) return err;
  if (err instanceof SfuError) return new MoimError(SFU_CODE[err.code], err.message, { cause: err });
  if (err instanceof StoreClosedError)
    return new MoimError('UNAVAILABLE', 'the server is shutting down; try again', { cause: err });
  if (err instanceof StoreUnavailableError)
    return new MoimError('UNAVAILABLE', 'storage is unavailable for a moment; try again', { cause: err });
  const full = storageError(err);
  return full instanceof MoimError ? full : undefined;
}
