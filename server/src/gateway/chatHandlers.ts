import { MoimError } from '@moim/protocol';
import type { Attachments } from '../chat/Attachments.ts';
import { chatRoom } from '../chat/ChatBus.ts';
import type { ChatActor, ChatService } from '../chat/ChatService.ts';
import type { Connection, HandlerTable } from './Gateway.ts';

/** Channels one connection may be subscribed to at once. */
export const MAX_CHAT_SUBSCRIPTIONS = 1000;

/** The caller as the chat service sees them; refuses FORBIDDEN without the chat grant. */
function actor(conn: Connection): ChatActor {
  conn.principal.requireChat();
  const t = conn.principal.token;
  return { sub: t.sub, org: t.org, site: t.site, isAdmin: conn.principal.isAdmin };
}

export function chatHandlers(chat: ChatService, attachments: Attachments): HandlerTable {
  return {
    'chat:channels': async (_data, conn) => ({ channels: await chat.myChannels(actor(conn)) }),
    'chat:channels:public': async (data, conn) => chat.publicChannels(actor(conn), data.after, data.limit),
    'chat:channel:create': async (data, conn) => chat.createChannel(actor(conn), data),
    'chat:channel:get': async (data, conn) => chat.getChannel(actor(conn), data.channelId),
    'chat:join': async (data, conn) => chat.join(actor(conn), data.channelId),
    'chat:leave': async (data, conn) => {
      await chat.leave(actor(conn), data.channelId);
      return {};
    },
    'chat:members:update': async (data, conn) =>
      chat.updateMembers(actor(conn), data.channelId, data.add ?? [], data.remove ?? []),
    'chat:members:list': async (data, conn) => chat.listMembers(actor(conn), data.channelId, data.after, data.limit),
    'chat:policy:set': async (data, conn) => chat.setPolicy(actor(conn), data.channelId, data.policy),
    'chat:dm:open': async (data, conn) => chat.openDm(actor(conn), data.people),
    'chat:subscribe': async (data, conn) => {
      const me = actor(conn);
      await chat.subscribable(me, data.channelId);
      const room = chatRoom(data.channelId);
      if (!conn.socket.rooms.has(room)) {
        let held = 0;
        for (const r of conn.socket.rooms) if (r.startsWith('chat:')) held++;
        if (held >= MAX_CHAT_SUBSCRIPTIONS)
          throw new MoimError(
            'TOO_MANY_SUBSCRIPTIONS',
            `a connection may subscribe to ${MAX_CHAT_SUBSCRIPTIONS} channels`,
          );
      }
      // join first, then read the last seq: anything stored after this point arrives live
      await conn.socket.join(chatRoom(data.channelId));
      try {
        return await chat.subscribable(me, data.channelId);
      } catch (err) {
        await conn.socket.leave(chatRoom(data.channelId)); // removed in between
        throw err;
      }
    },
    'chat:unsubscribe': async (data, conn) => {
      actor(conn);
      await conn.socket.leave(chatRoom(data.channelId));
      return {};
    },
    'chat:send': async (data, conn) => chat.send(actor(conn), data),
    'chat:history': async (data, conn) => chat.history(actor(conn), data),
    'chat:edit': async (data, conn) => chat.edit(actor(conn), data.channelId, data.seq, data.text),
    'chat:delete': async (data, conn) => chat.delete(actor(conn), data.channelId, data.seq),
    'chat:react': async (data, conn) => chat.react(actor(conn), data.channelId, data.seq, data.emoji, data.on),
    'chat:typing': async (data, conn) => chat.typing(actor(conn), data.channelId, data.typing, conn.socket.id),
    'chat:read': async (data, conn) => chat.read(actor(conn), data.channelId, data.seq),
    'chat:receipts': async (data, conn) => chat.receipts(actor(conn), data.channelId, data.after, data.limit),
    'chat:attachment:link': async (data, conn) => attachments.link(actor(conn), data.channelId, data.attachmentId),
  };
}
