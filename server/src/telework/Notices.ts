/**
 * Notices: how telework tells a person something — a direct message in moim's chat from the
 * system account (`moim`), with an app link such as `#/approvals/<id>`. A notice is a courtesy
 * on top of a change already stored and audited, so a failure to deliver it (chat closing, the
 * store refusing) is logged with its context and never fails the change that caused it.
 */
import type { ChatService } from '../chat/ChatService.ts';
import { SYSTEM_SENDER } from '../chat/ChatService.ts';
import type { Logger } from '../logger.ts';
import type { Notices } from './contracts.ts';

export class ChatNotices implements Notices {
  readonly #chat: ChatService;
  readonly #log: Logger;

  constructor(opts: { chat: ChatService; log: Logger }) {
    this.#chat = opts.chat;
    this.#log = opts.log;
  }

  async tell(org: string, sub: string, text: string, link: string): Promise<void> {
    if (sub === SYSTEM_SENDER) return;
    try {
      const message = await this.#chat.systemMessage(org, sub, `${text}\n${link}`);
      this.#log.debug({ org, sub, channel: message.channelId, seq: message.seq }, 'notice sent');
    } catch (err) {
      this.#log.warn({ err, org, sub, link }, 'notice not delivered');
    }
  }
}
