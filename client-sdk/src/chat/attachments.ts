/**
 * Chat attachments (files on chat messages, `AttachmentRef`): uploading one to a channel over HTTP
 * and getting a short-lived download link. Not video: a remote video shown in an element is a
 * `VideoBinding` (rooms/VideoBindings.ts).
 */
import type { AttachmentRef } from '@moim/protocol';
import { isErrorCode, MoimError } from '@moim/protocol/client';
import type { MoimClient } from '../MoimClient.ts';

/** Upload a file to a channel; send its id in `send(…, { attachments: [id] })`. */
export async function uploadAttachment(
  client: MoimClient,
  channelId: string,
  file: Blob,
  name: string,
): Promise<AttachmentRef> {
  const token = await client.currentToken();
  const res = await fetch(`${client.url}/chat/channels/${encodeURIComponent(channelId)}/attachments`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': file.type || 'application/octet-stream',
      'x-filename': encodeURIComponent(name),
    },
    body: file,
  });
  const body = (await res.json().catch(() => ({}))) as {
    attachment?: AttachmentRef;
    error?: { code?: string; message?: string };
  };
  if (!res.ok || !body.attachment) {
    const code = isErrorCode(body.error?.code) ? body.error.code : 'UNAVAILABLE';
    throw new MoimError(code, body.error?.message ?? `upload failed (HTTP ${res.status})`);
  }
  return body.attachment;
}

/** A short-lived download link (refused with POLICY_FORBIDS where the channel forbids downloads). */
export async function attachmentLink(
  client: MoimClient,
  channelId: string,
  attachmentId: string,
): Promise<{ url: string; expiresAt: number }> {
  const res = await client.request('chat:attachment:link', { channelId, attachmentId });
  return { url: new URL(res.url, `${client.url}/`).toString(), expiresAt: res.expiresAt };
}
