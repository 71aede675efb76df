/**
 * Stable error codes shared by server and clients. Clients act on `code`, never on `message`.
 * Each code maps to one HTTP status (REST) and travels unchanged in socket acknowledgements.
 */
export const ERROR_STATUS = {
  INVALID_PAYLOAD: 400,
  UNKNOWN_EVENT: 400,
  PROTOCOL_MISMATCH: 426,
  TOKEN_MISSING: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_INVALID: 401,
  TOKEN_ALGORITHM: 401,
  TOKEN_AUDIENCE: 401,
  TOKEN_CLAIMS: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  // video rooms
  ROOM_FULL: 409,
  ROOM_CLOSED: 410,
  TIER_NOT_ALLOWED: 403,
  TOO_MANY_PRODUCERS: 409,
  CODEC_NOT_ALLOWED: 422,
  BITRATE_NOT_ALLOWED: 422,
  ENCODINGS_NOT_ALLOWED: 422,
  TOO_MANY_TRANSPORTS: 409,
  CANNOT_CONSUME: 422,
  NOT_IN_ROOM: 409,
  PEER_REMOVED: 403,
  WORKER_DIED: 503,
  MEDIA_ERROR: 500,
  /** Strict network (relay only) is on, but the server hands out no TURN relay to use. */
  NO_RELAY: 503,
  // chat and documents
  NOT_A_MEMBER: 403,
  MESSAGE_TOO_LONG: 413,
  CHANNEL_FULL: 409,
  TOO_MANY_DOCUMENTS: 429,
  DOCUMENT_TOO_LARGE: 413,
  POLICY_FORBIDS: 403,
  /** A document title is empty, longer than 200 characters, or holds control characters. */
  INVALID_TITLE: 400,
  TOO_MANY_SUBSCRIPTIONS: 429,
  // telework
  /** The place is already booked for part of the requested time. */
  BOOKING_CONFLICT: 409,
  /** The requested time is not inside the site's opening hours (in the site's time zone). */
  OUTSIDE_HOURS: 422,
  /** The day is not covered by an approved telework plan at that site (booking, check-in). */
  NOT_APPROVED: 403,
  /** The person may not apply for telework (their duty excludes it, or they are suspended). */
  NOT_ELIGIBLE: 403,
  /** Booking is suspended for a while after repeated no-shows. */
  BOOKING_SUSPENDED: 403,
  /** The approval step or document was decided already; an approved document is never edited. */
  ALREADY_DECIDED: 409,
  // calls that ring
  /** The call is no longer ringing for you: answered on another device, declined, cancelled or timed out. */
  CALL_NOT_RINGING: 409,
  /** You already take part in as many calls as allowed (MOIM_CALL_MAX_PER_PERSON). */
  TOO_MANY_CALLS: 429,
  /** A call may ring at most MOIM_CALL_MAX_CALLEES people. */
  TOO_MANY_CALLEES: 422,
  // limits and resources
  /** A per-person or per-address connection cap was reached. */
  TOO_MANY_CONNECTIONS: 429,
  /** A per-person storage quota (attachments) is used up. */
  QUOTA_EXCEEDED: 413,
  /** The data disk is at its configured free-space floor: nothing new is stored. */
  STORAGE_FULL: 507,
  // sign-in (issue 17)
  /** The session was signed out, or the person's access was revoked (they left). */
  TOKEN_REVOKED: 401,
  /** A sign-in (OIDC, passkey, certificate) was refused: bad state, challenge, assertion or certificate. */
  SIGN_IN_FAILED: 401,
  /** A sensitive action needs a fresh second factor (passkey or certificate): step up, then retry. */
  STEP_UP_REQUIRED: 403,
  // recording
  /** The node already runs MOIM_RECORDING_MAX_CONCURRENT recordings. */
  TOO_MANY_RECORDINGS: 503,
  // security
  /** A browser request from a web origin not on the allow-list (MOIM_ALLOWED_ORIGINS). */
  ORIGIN_NOT_ALLOWED: 403,
  // generic
  DEV_TOKENS_DISABLED: 403,
  UNAVAILABLE: 503,
  INTERNAL: 500,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_STATUS;

export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

export interface ErrorBody {
  code: ErrorCode;
  message: string;
}

export function httpStatusOf(code: ErrorCode): number {
  return ERROR_STATUS[code];
}

/** An error with a stable code; thrown by services, turned into an ack or HTTP error at the edge. */
export class MoimError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MoimError';
    this.code = code;
  }

  toBody(): ErrorBody {
    return { code: this.code, message: this.message };
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_STATUS, value);
}
