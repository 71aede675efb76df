/**
 * Wire protocol version. A client sends it in the socket.io handshake (`auth.protocol`); the
 * server refuses a major it does not speak with PROTOCOL_MISMATCH.
 */
export const PROTOCOL_VERSION = 1;
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [1];
