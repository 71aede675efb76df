import { TypedEmitter } from '@moim/protocol';
import type { MoimClient } from '../MoimClient.ts';

// biome-ignore lint/complexity/noBannedTypes: filled once the chat protocol lands
export type ChatEvents = {};

/** Chat: channels, direct messages, history and catch-up after reconnects. */
export class Chat extends TypedEmitter<ChatEvents> {
  readonly #client: MoimClient;

  constructor(client: MoimClient) {
    super();
    this.#client = client;
  }

  get client(): MoimClient {
    return this.#client;
  }
}
