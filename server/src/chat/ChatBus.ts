import type { ChatServerEvents } from '@moim/protocol';
import type { MoimServer } from '../gateway/Gateway.ts';
import { personRoom } from '../gateway/Gateway.ts';

/** Room of a channel's live events (joined by `chat:subscribe`). */
export const chatRoom = (channelId: string): string => `chat:${channelId}`;

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
  /** To every connection of these people. */
  toPeople<E extends keyof ChatServerEvents>(subs: readonly string[], event: E, payload: Payload<E>): void;
  /** Take every connection of this person out of the channel's room (removed members get nothing more). */
  evict(sub: string, channelId: string): void;
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

  toPeople<E extends keyof ChatServerEvents>(subs: readonly string[], event: E, payload: Payload<E>): void {
    if (subs.length === 0) return;
    (this.#io.to(subs.map(personRoom)).emit as (e: string, p: unknown) => boolean)(event, payload);
  }

  evict(sub: string, channelId: string): void {
    this.#io.in(personRoom(sub)).socketsLeave(chatRoom(channelId));
  }
}
