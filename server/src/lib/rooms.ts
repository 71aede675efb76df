import type { ClientToServerEvents, InterServerEvents, ServerToClientEvents, SocketData } from '@moim/protocol';
import type { Server } from 'socket.io';
import { personKey } from '../auth/Principal.ts';

/** The typed socket.io server: services address rooms through it, without depending on the gateway. */
export type MoimServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/**
 * Room every socket of a person joins, for pushes addressed to a person. Scoped by organisation:
 * the same `sub` in another org is someone else.
 */
export const personRoom = (org: string, sub: string): string => `person:${personKey(org, sub)}`;
