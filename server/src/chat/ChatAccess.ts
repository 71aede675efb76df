/**
 * Who may see, read and write a channel (the rules of @moim/protocol chat.ts), and the mapping of
 * the chat store's refusals onto protocol codes. Shared by the channel and message operations and,
 * through ChatService, the attachment routes.
 */
import { MoimError } from '@moim/protocol';
import type { Logger } from '../logger.ts';
import { type ChatStore, ChatStoreError, type StoredChannel, type StoredMember } from '../storage/ChatStore.ts';
import type { ChatActor } from './model.ts';

export class ChatAccess {
  readonly #store: ChatStore;
  readonly #log: Logger;

  constructor(store: ChatStore, log: Logger) {
    this.#store = store;
    this.#log = log;
  }

  /** The channel if it exists in my organisation (NOT_FOUND otherwise: other orgs' ids are not revealed). */
  async visible(
    me: ChatActor,
    channelId: string,
  ): Promise<{ channel: StoredChannel; member: StoredMember | undefined }> {
    const a = await this.#store.access(channelId, me.sub);
    if (!a || a.channel.org !== me.org) throw new MoimError('NOT_FOUND', `no channel ${channelId}`);
    return a;
  }

  /** Read access: public and site channels for everyone in the org, the others for members. */
  async readable(
    me: ChatActor,
    channelId: string,
  ): Promise<{ channel: StoredChannel; member: StoredMember | undefined }> {
    const a = await this.visible(me, channelId);
    if (!a.member && a.channel.kind !== 'public' && a.channel.kind !== 'site')
      throw new MoimError('NOT_A_MEMBER', 'this channel is for its members only');
    return a;
  }

  /** Write access: members only. */
  async writable(me: ChatActor, channelId: string): Promise<{ channel: StoredChannel; member: StoredMember }> {
    const a = await this.visible(me, channelId);
    if (!a.member) throw new MoimError('NOT_A_MEMBER', 'join the channel first');
    return { channel: a.channel, member: a.member };
  }

  /** Map store refusals to protocol codes. */
  async wrap<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (err) {
      throw this.storeError(err);
    }
  }

  storeError(err: unknown): MoimError {
    // the store already named the failure (STORAGE_FULL on a full disk): pass it on unchanged
    if (err instanceof MoimError) return err;
    if (!(err instanceof ChatStoreError)) {
      this.#log.error({ err }, 'chat store failed');
      return new MoimError('UNAVAILABLE', 'chat storage failed; retry', { cause: err });
    }
    switch (err.reason) {
      case 'channel-full':
        return new MoimError('CHANNEL_FULL', err.message);
      case 'exists':
        return new MoimError('CONFLICT', err.message);
      default:
        return new MoimError('NOT_FOUND', err.message);
    }
  }
}
