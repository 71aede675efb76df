import type { ChatServerEvents } from '@moim/protocol';
import { personKey } from '../auth/Principal.ts';
import { type MoimServer, personRoom } from '../lib/rooms.ts';

/** Room of a channel's live events (joined by `chat:subscribe`). */
export const chatRoom = (channelId: string): string => `chat:${channelId}`;

/** True for a channel's room (the subscriptions a token refresh re-evaluates). */
export const isChatRoom = (room: string): boolean => room.startsWith('chat:');

/** The channel id of a channel's room. */
export const channelOfRoom = (room: string): string => room.slice('chat:'.length);

/**
 * Room of a person's connections that hold the chat grant: chat pushes addressed to a person
 * (invitations, mentions) go here, never to a connection whose token has no chat grant.
 */
export const chatPersonRoom = (org: string, sub: string): string => `chat-person:${personKey(org, sub)}`;

type Payload<E extends keyof ChatServerEvents> = Parameters<ChatServerEvents[E]>[0];

/**
 * Chat fan-out. The socket.io implementation works across nodes once the Redis adapter is
 * installed (`io.to(room).emit` and `socketsLeave` are broadcast operations), so the cluster
 * mode needs no change in the service.
 */
export interface ChatBus {
  /** To every socket subscribed to the channel (except one socket, e.g. the typist's own). */
  toChannel<E extends keyof ChatServerEvents>(
    channelId: string,
    event: E,
    payload: Payload<E>,
    exceptSocketId?: string,
  ): void;
  /** To every connection of these people of organisation `org`. */
  toPeople<E extends keyof ChatServerEvents>(org: string, subs: readonly string[], event: E, payload: Payload<E>): void;
  /** Take every connection of this person out of the channel's room (removed members get nothing more). */
  evict(org: string, sub: string, channelId: string): void;
}

export class SocketIoChatBus implements ChatBus {
  readonly #io: MoimServer;
  constructor(io: MoimServer) {
    this.#io = io;
  }

  toChannel<E extends keyof ChatServerEvents>(
    channelId: string,
    event: E,
    payload: Payload<E>,
    exceptSocketId?: string,
  ): void {
    const target = exceptSocketId
      ? this.#io.to(chatRoom(channelId)).except(exceptSocketId)
      : this.#io.to(chatRoom(channelId));
    (target.emit as (e: string, p: unknown) => boolean)(event, payload);
  }

  toPeople<E extends keyof ChatServerEvents>(
    org: string,
    subs: readonly string[],
    event: E,
    payload: Payload<E>,
  ): void {
    if (subs.length === 0) return;
    const rooms = subs.map((sub) => chatPersonRoom(org, sub));
    (this.#io.to(rooms).emit as (e: string, p: unknown) => boolean)(event, payload);
  }

  evict(org: string, sub: string, channelId: string): void {
    // every connection of the person, whatever its grants
    this.#io.in(personRoom(org, sub)).socketsLeave(chatRoom(channelId));
  }
}
