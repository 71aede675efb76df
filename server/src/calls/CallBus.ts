import type { CallInfo } from '@moim/protocol';
import { type MoimServer, personRoom } from '../lib/rooms.ts';

/**
 * How a call's changes reach people: every connection of the person (their person room). With
 * the cluster's Redis adapter `io.to(room).emit` reaches the person's devices on every node.
 */
export interface CallBus {
  toPerson(org: string, sub: string, call: CallInfo): void;
}

export class SocketIoCallBus implements CallBus {
  readonly #io: MoimServer;
  constructor(io: MoimServer) {
    this.#io = io;
  }
  toPerson(org: string, sub: string, call: CallInfo): void {
    this.#io.to(personRoom(org, sub)).emit('call:update', call);
  }
}
