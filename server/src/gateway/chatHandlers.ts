import { MoimError } from '@moim/protocol';
import type { Principal } from '../auth/Principal.ts';
import type { Attachments } from '../chat/Attachments.ts';
import { channelOfRoom, chatPersonRoom, chatRoom, isChatRoom } from '../chat/ChatBus.ts';
import type { ChatActor, ChatService } from '../chat/ChatService.ts';
import { type Connection, type ContentMarks, type Gateway, type HandlerTable, joinNow, leaveNow } from './Gateway.ts';

/** Channels one connection may be subscribed to at once. */
export const MAX_CHAT_SUBSCRIPTIONS = 1000;

/** The caller as the chat service sees them; refuses FORBIDDEN without the chat grant. */
function actor(conn: Connection): ChatActor {
  conn.principal.requireChat();
  return actorOf(conn.principal);
}

function actorOf(p: Principal): ChatActor {
  const t = p.token;
  return { sub: t.sub, org: t.org, site: t.site, isAdmin: p.isAdmin, teams: t.teams, key: p.key };
}

/** Wire chat to the gateway: its requests, and the rooms that follow a connection's token. */
export function wireChat(gateway: Gateway, chat: ChatService, attachments: Attachments): void {
  gateway.on('connect', (conn) => {
    const t = conn.principal.token;
    if (t.grants.chat) joinNow(conn, chatPersonRoom(t.org, t.sub));
  });
  gateway.on('reauth', (conn, previous, next) => followChatReauth(chat, conn, previous, next));
  gateway.register(chatHandlers(chat, attachments), CHAT_CONTENT);
}

/**
 * A token refresh: without the chat grant, or in another organisation, every channel room and the
 * person's chat room are left at once (before `system:auth` is answered). Otherwise each channel
 * subscription is checked again with the new token in the background and left if refused.
 */
export function followChatReauth(chat: ChatService, conn: Connection, previous: Principal, next: Principal): void {
  const socket = conn.socket;
  const before = previous.token;
  const after = next.token;
  const sameOrg = before.org === after.org && before.sub === after.sub;
  if (!after.grants.chat || !sameOrg) {
    leaveNow(conn, chatPersonRoom(before.org, before.sub));
    for (const room of [...socket.rooms]) if (isChatRoom(room)) leaveNow(conn, room);
  }
  if (after.grants.chat) joinNow(conn, chatPersonRoom(after.org, after.sub));
  if (!after.grants.chat || !sameOrg) return;
  const channels = [...socket.rooms].filter(isChatRoom).map(channelOfRoom);
  if (channels.length === 0) return;
  void recheckSubscriptions(chat, conn, next, channels).catch((err: unknown) =>
    conn.log.error({ err }, 'chat: could not re-check subscriptions after a token refresh'),
  );
}

async function recheckSubscriptions(
  chat: ChatService,
  conn: Connection,
  next: Principal,
  channelIds: readonly string[],
): Promise<void> {
  const me = actorOf(next);
  for (const channelId of channelIds) {
    if (conn.principal !== next || !conn.socket.connected) return; // a newer refresh re-checks, or gone
    try {
      await chat.subscribable(me, channelId);
    } catch (err) {
      if (!(err instanceof MoimError) || err.code === 'UNAVAILABLE') {
        conn.log.warn({ err, channelId }, 'chat: subscription kept, its re-check failed');
        continue;
      }
      await conn.socket.leave(chatRoom(channelId));
    }
  }
}

/** Chat events that return stored content: the gateway checks the channel's data-leak policy first. */
export const CHAT_CONTENT: ContentMarks = {
  'chat:history': { kind: 'channel', action: 'read', target: (d) => d.channelId },
  // the channel's messages as they come: held back from guests like its history
  'chat:subscribe': { kind: 'channel', action: 'read', target: (d) => d.channelId },
  'chat:attachment:link': { kind: 'channel', action: 'download', target: (d) => d.channelId },
};

export function chatHandlers(chat: ChatService, attachments: Attachments): HandlerTable {
  return {
    'chat:channels': async (_data, conn) => ({ channels: await chat.myChannels(actor(conn)) }),
    'chat:channels:public': async (data, conn) => chat.publicChannels(actor(conn), data.after, data.limit, data.q),
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
      await chat.subscribable(actor(conn), data.channelId);
      const room = chatRoom(data.channelId);
      if (!conn.socket.rooms.has(room)) {
        let held = 0;
        for (const r of conn.socket.rooms) if (isChatRoom(r)) held++;
        if (held >= MAX_CHAT_SUBSCRIPTIONS)
          throw new MoimError(
            'TOO_MANY_SUBSCRIPTIONS',
            `a connection may subscribe to ${MAX_CHAT_SUBSCRIPTIONS} channels`,
          );
      }
      // join first, then read the last seq: anything stored after this point arrives live
      await conn.socket.join(room);
      try {
        // with the principal as it is now: a token refreshed meanwhile decides
        return await chat.subscribable(actor(conn), data.channelId);
      } catch (err) {
        await conn.socket.leave(room); // removed in between, or the token no longer allows it
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
