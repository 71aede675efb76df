import type { z } from 'zod';
import { type CallResponses, type CallServerEvents, callRequests } from './calls.ts';
import { type ChatResponses, type ChatServerEvents, chatRequests } from './chat.ts';
import type { DocServerEvents } from './docs.ts';
import { type MediaResponses, type MediaServerEvents, mediaRequests } from './media.ts';
import { type PolicyResponses, type PolicyServerEvents, policyRequests } from './policy.ts';
import { type PresenceResponses, type PresenceServerEvents, presenceRequests } from './presence.ts';
import { type RecordingResponses, type RecordingServerEvents, recordingRequests } from './recording.ts';
import type { AckCallback } from './rpc.ts';
import { type SystemResponses, type SystemServerEvents, systemRequests } from './system.ts';

/**
 * Every client→server event with the zod schema of its payload. The gateway validates each
 * inbound payload against this table; an event missing here is refused with UNKNOWN_EVENT.
 */
export const requestSchemas = {
  ...systemRequests,
  ...mediaRequests,
  ...presenceRequests,
  ...chatRequests,
  ...callRequests,
  ...recordingRequests,
  ...policyRequests,
} as const;

export type RequestSchemas = typeof requestSchemas;
export type RequestName = keyof RequestSchemas;
export const REQUEST_NAMES = Object.keys(requestSchemas) as RequestName[];

export type Responses = SystemResponses &
  MediaResponses &
  PresenceResponses &
  ChatResponses &
  CallResponses &
  RecordingResponses &
  PolicyResponses;

/** Payload as a client sends it (before defaults are applied). */
export type RequestInput<N extends RequestName> = z.input<RequestSchemas[N]>;
/** Payload as the server handler receives it (validated, defaults applied). */
export type RequestData<N extends RequestName> = z.output<RequestSchemas[N]>;
export type ResponseData<N extends RequestName> = N extends keyof Responses ? Responses[N] : never;

export type ClientToServerEvents = {
  [N in RequestName]: (data: RequestInput<N>, ack?: AckCallback<ResponseData<N>>) => void;
};

export type ServerToClientEvents = SystemServerEvents &
  MediaServerEvents &
  PresenceServerEvents &
  ChatServerEvents &
  CallServerEvents &
  RecordingServerEvents &
  PolicyServerEvents &
  DocServerEvents;

// biome-ignore lint/complexity/noBannedTypes: no inter-server events yet (the cluster adapter relays broadcasts)
export type InterServerEvents = {};

/** Per-socket data the gateway keeps (set by the auth middleware). */
export interface SocketData {
  sub: string;
  connectionId: string;
  deviceId: string;
  protocol: number;
}

/** Handshake `auth` object a client sends. */
export interface HandshakeAuth {
  token: string;
  protocol: number;
  /** Stable per-device id chosen by the client (presence aggregates over devices). */
  deviceId?: string;
}
