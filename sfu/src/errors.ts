/**
 * The SFU's own errors. The SFU knows nothing of the wire: the server maps each `code` to a
 * protocol error code in one place (`server/src/media/sfuErrors.ts`). The names match the wire
 * codes they usually become, so a log line reads the same on both sides.
 */
export type SfuErrorCode =
  | 'ROOM_FULL'
  | 'ROOM_CLOSED'
  | 'NOT_IN_ROOM'
  | 'NOT_FOUND'
  | 'FORBIDDEN'
  | 'INVALID_PAYLOAD'
  | 'CONFLICT'
  | 'TOO_MANY_TRANSPORTS'
  | 'TOO_MANY_PRODUCERS'
  | 'ENCODINGS_NOT_ALLOWED'
  | 'CODEC_NOT_ALLOWED'
  | 'BITRATE_NOT_ALLOWED'
  | 'CANNOT_CONSUME'
  | 'MEDIA_ERROR';

export class SfuError extends Error {
  override readonly name = 'SfuError';
  readonly code: SfuErrorCode;

  constructor(code: SfuErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * A WebRtcServer could not bind its port: another process (a second moim on the machine) holds it.
 * Start-up names the setting to change; the SFU itself knows no settings.
 */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  readonly code = 'PORT_IN_USE';
  readonly port: number;
  readonly ip: string;

  constructor(port: number, ip: string, options?: { cause?: unknown }) {
    super(`port ${port} on ${ip} is in use`, options);
    this.port = port;
    this.ip = ip;
  }
}

/** Whether a mediasoup error is a port that could not be bound (`uv_udp_bind() failed … address already in use`). */
export function isBindFailure(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  return /address already in use|EADDRINUSE|_bind\(\) failed/i.test(message);
}

/** Run a mediasoup call, turning its errors into an SfuError with `code` (mediasoup's message kept). */
export async function mediaCall<T>(fn: () => Promise<T>, code: SfuErrorCode, prefix?: string): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SfuError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    const name = err instanceof Error ? err.name : '';
    const finalCode: SfuErrorCode = name === 'InvalidStateError' ? 'CONFLICT' : code;
    throw new SfuError(finalCode, `${prefix ? `${prefix}: ` : ''}${message.slice(0, 300)}`, { cause: err });
  }
}
