import { randomUUID } from 'node:crypto';
import type { AttachmentRef, Channel, ChatMessage } from '@moim/protocol';
import { call, request, type TestServer, type TestSocket } from '../server/src/testing/index.ts';

/** Helpers of the attachment, quota and disk-full tests (real servers, real HTTP). */

export interface Person {
  sub: string;
  token: string;
  socket: TestSocket;
}

export async function person(server: TestServer, sub: string): Promise<Person> {
  const token = await server.token({ name: sub, sub });
  return { sub, token, socket: await server.connect(token) };
}

export function channel(p: Person, name: string): Promise<Channel> {
  return call<Channel>(p.socket, 'chat:channel:create', { name, kind: 'private', members: [] });
}

export interface UploadAnswer {
  status: number;
  attachment?: AttachmentRef;
  code?: string;
}

/**
 * POST an attachment. `chunked`: no Content-Length (a stream body), so the server learns the size
 * only while reading.
 */
export async function upload(
  url: string,
  token: string,
  channelId: string,
  bytes: Uint8Array,
  opts: { chunked?: boolean; type?: string } = {},
): Promise<UploadAnswer> {
  const body = opts.chunked
    ? new ReadableStream<Uint8Array>({
        start(controller) {
          for (let off = 0; off < bytes.byteLength; off += 16 * 1024)
            controller.enqueue(bytes.subarray(off, off + 16 * 1024));
          controller.close();
        },
      })
    : bytes;
  const res = await fetch(`${url}/chat/channels/${encodeURIComponent(channelId)}/attachments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': opts.type ?? 'application/pdf' },
    body,
    ...(opts.chunked ? { duplex: 'half' } : {}),
  } as RequestInit);
  const json = (await res.json()) as { attachment?: AttachmentRef; error?: { code: string } };
  return {
    status: res.status,
    ...(json.attachment ? { attachment: json.attachment } : {}),
    ...(json.error ? { code: json.error.code } : {}),
  };
}

/** Download an attachment through a fresh link; the bytes, or the refusal's status. */
export async function download(
  url: string,
  p: Person,
  channelId: string,
  attachmentId: string,
): Promise<{ status: number; bytes: Buffer }> {
  const link = await call<{ url: string }>(p.socket, 'chat:attachment:link', { channelId, attachmentId });
  const res = await fetch(`${url}${link.url}`);
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
}

export function send(p: Person, channelId: string, text: string) {
  return request<{ message: ChatMessage }>(p.socket, 'chat:send', { channelId, clientMsgId: randomUUID(), text });
}

export async function history(p: Person, channelId: string): Promise<string[]> {
  const r = await call<{ messages: ChatMessage[] }>(p.socket, 'chat:history', { channelId, limit: 50 });
  return r.messages.map((m) => m.text);
}

export async function readyz(url: string): Promise<{ status: number; checks: Record<string, boolean> }> {
  const res = await fetch(`${url}/readyz`);
  const body = (await res.json()) as { checks: Record<string, boolean> };
  return { status: res.status, checks: body.checks };
}

/** Bytes that differ from upload to upload (so a mix-up shows). */
export function bytesOf(size: number, seed: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
}
