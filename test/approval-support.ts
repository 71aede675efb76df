/**
 * Shared by the approval and telework-request tests: the chat notices a person received from
 * moim's system account (read as they would: their channel list, then each direct message's
 * history), a directory entry put by an admin, and the audit entries of an action.
 */
import type { ChatMessage, MyChannel } from '@moim/protocol';
import type { StoredAuditEntry } from '../server/src/storage/index.ts';
import { call, type TestServer, type TestSocket } from '../server/src/testing/index.ts';
import { api } from './telework-support.ts';

/** Every message from `moim` in the socket's person's direct messages, oldest first. */
export async function noticesOf(socket: TestSocket): Promise<ChatMessage[]> {
  const { channels } = await call<{ channels: MyChannel[] }>(socket, 'chat:channels', {});
  const out: ChatMessage[] = [];
  for (const c of channels.filter((ch) => ch.kind === 'dm')) {
    const { messages } = await call<{ messages: ChatMessage[] }>(socket, 'chat:history', { channelId: c.id });
    out.push(...messages.filter((m) => m.sender === 'moim'));
  }
  return out.sort((a, b) => a.createdAt - b.createdAt);
}

/** Put a person in the org directory (as its admin); 200 or 201 expected. */
export async function putPerson(
  server: TestServer,
  admin: string,
  sub: string,
  fields: { manager?: string | null; dutyExcludesTelework?: boolean; priorityCategories?: string[] } = {},
): Promise<void> {
  const answer = await api(server, 'PUT', `/telework/directory/${sub}`, admin, { name: sub, ...fields });
  if (answer.status !== 200 && answer.status !== 201)
    throw new Error(`directory put ${sub}: ${JSON.stringify(answer)}`);
}

/** The audit entries of `action` about `target`, oldest first. */
export async function auditOf(server: TestServer, action: string, target: string): Promise<StoredAuditEntry[]> {
  const all = await server.app.stores.audit.list({ action, limit: 1000 });
  return all.filter((e) => e.target === target);
}
