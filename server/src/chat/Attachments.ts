import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Readable } from 'node:stream';
import { type AttachmentRef, CHAT_LIMITS, MoimError } from '@moim/protocol';
import { KeyedRateLimiter } from '../lib/RateLimiter.ts';
import type { AuditStore } from '../storage/AuditStore.ts';
import type { BlobStore } from '../storage/BlobStore.ts';
import { type ChatStore, ChatStoreError, type StoredAttachment } from '../storage/ChatStore.ts';
import type { ChatActor, ChatService } from './ChatService.ts';

export interface AttachmentOptions {
  chat: ChatService;
  store: ChatStore;
  blobs: BlobStore;
  audit: AuditStore;
  /** Largest attachment (MOIM_ATTACHMENT_MAX_BYTES). */
  maxBytes: number;
  /** Bytes of attachments one person may have stored in all (MOIM_ATTACHMENT_QUOTA_BYTES). */
  quotaBytes: number;
  /** Uploads one person may start per minute, as a burst too (MOIM_ATTACHMENT_UPLOADS_PER_MIN). */
  uploadsPerMin: number;
  /** Allowed MIME types; `type/*` and trailing `*` wildcards (MOIM_ATTACHMENT_TYPES). */
  types: readonly string[];
  /** Lifetime of download links, seconds (MOIM_ATTACHMENT_LINK_TTL_S). */
  linkTtlS: number;
  /** HMAC key of download links (every node of a cluster needs the same). */
  linkKey: Buffer;
  now?: () => number;
}

/**
 * Attachments: upload into the blob store with size and type limits, a per-person quota of stored
 * bytes (QUOTA_EXCEEDED) and a per-person upload rate (RATE_LIMITED); download through a
 * short-lived link signed with HMAC-SHA256 over (attachment, person, expiry). The channel policy
 * (`downloadsAllowed`) and the person's access are checked when the link is issued and again
 * when it is used, so a policy change or a removal takes effect at once. A full data disk refuses
 * uploads with STORAGE_FULL (from the blob store); what is already stored stays readable.
 */
export class Attachments {
  readonly #o: AttachmentOptions;
  readonly #now: () => number;
  /** Upload starts per person (this node). */
  readonly #uploads: KeyedRateLimiter;

  constructor(opts: AttachmentOptions) {
    this.#o = opts;
    this.#now = opts.now ?? Date.now;
    this.#uploads = new KeyedRateLimiter(opts.uploadsPerMin / 60, opts.uploadsPerMin);
  }

  typeAllowed(type: string): boolean {
    return this.#o.types.some((pattern) =>
      pattern.endsWith('*') ? type.startsWith(pattern.slice(0, -1)) : type === pattern,
    );
  }

  async upload(
    me: ChatActor,
    channelId: string,
    input: { type: string; name: string; declaredBytes: number | undefined; body: AsyncIterable<Uint8Array> },
  ): Promise<AttachmentRef> {
    await this.#o.chat.writable(me, channelId);
    const type = input.type.split(';')[0]!.trim().toLowerCase();
    if (!/^[a-z0-9][\w.+-]*\/[a-z0-9][\w.+-]*$/.test(type) || !this.typeAllowed(type))
      throw new MoimError(
        'UNSUPPORTED_MEDIA_TYPE',
        `attachments of type ${JSON.stringify(type.slice(0, 100))} are not allowed`,
      );
    const declared = input.declaredBytes;
    if (declared !== undefined && declared > this.#o.maxBytes)
      throw new MoimError('PAYLOAD_TOO_LARGE', `attachment exceeds ${this.#o.maxBytes} bytes`);
    if (!this.#uploads.take(me.sub))
      throw new MoimError(
        'RATE_LIMITED',
        `at most ${this.#o.uploadsPerMin} uploads per minute per person; wait a little and retry`,
      );
    const quota = this.#o.quotaBytes;
    const used = await this.#o.store.attachmentBytes(me.sub);
    const left = quota - used;
    const quotaError = (size: number | undefined) =>
      new MoimError(
        'QUOTA_EXCEEDED',
        `your attachments use ${used} of ${quota} bytes${size === undefined ? '' : `; this one (${size} bytes) does not fit`}`,
      );
    if (left <= 0 || (declared !== undefined && declared > left)) throw quotaError(declared);
    const name = cleanFileName(input.name);
    // the stream stops at whichever limit comes first: the attachment size or the quota left
    const limit = Math.min(this.#o.maxBytes, left);
    let blob: Awaited<ReturnType<BlobStore['put']>>;
    try {
      blob = await this.#o.blobs.put(input.body, { maxBytes: limit, expectedBytes: declared });
    } catch (err) {
      if (err instanceof MoimError && err.code === 'PAYLOAD_TOO_LARGE' && limit < this.#o.maxBytes)
        throw quotaError(undefined);
      throw err;
    }
    if (blob.size === 0) {
      await this.#o.blobs.delete(blob.key);
      throw new MoimError('INVALID_PAYLOAD', 'the attachment is empty');
    }
    const a: StoredAttachment = {
      id: randomUUID(),
      channelId,
      uploader: me.sub,
      name,
      type,
      size: blob.size,
      sha256: blob.sha256,
      blobKey: blob.key,
      createdAt: this.#now(),
    };
    try {
      // checked again with the insert: uploads finishing together cannot pass the quota
      await this.#o.store.putAttachment(a, { quotaBytes: quota });
    } catch (err) {
      await this.#o.blobs.delete(blob.key);
      if (err instanceof ChatStoreError && err.reason === 'quota-exceeded')
        throw new MoimError('QUOTA_EXCEEDED', err.message, { cause: err });
      throw err;
    }
    await this.#o.audit.append({
      actor: me.sub,
      org: me.org,
      action: 'chat.attachment.upload',
      target: channelId,
      detail: { attachment: a.id, name, type, size: a.size, sha256: a.sha256 },
    });
    return { id: a.id, name, type, size: a.size };
  }

  /** A signed, short-lived download path (relative to the server URL). */
  async link(me: ChatActor, channelId: string, attachmentId: string): Promise<{ url: string; expiresAt: number }> {
    const { channel } = await this.#o.chat.readable(me, channelId);
    const a = await this.#o.store.getAttachment(attachmentId);
    if (!a || a.channelId !== channelId)
      throw new MoimError('NOT_FOUND', `no attachment ${attachmentId} in this channel`);
    if (!channel.policy.downloadsAllowed) {
      await this.#o.audit.append({
        actor: me.sub,
        org: me.org,
        action: 'chat.attachment.download-refused',
        target: channelId,
        detail: { attachment: a.id },
      });
      throw new MoimError('POLICY_FORBIDS', 'this channel does not allow downloads');
    }
    const expiresAt = this.#now() + this.#o.linkTtlS * 1000;
    const exp = Math.floor(expiresAt / 1000);
    const sig = this.#sign(a.id, me.sub, exp);
    const q = new URLSearchParams({ sub: me.sub, exp: String(exp), sig });
    await this.#o.audit.append({
      actor: me.sub,
      org: me.org,
      action: 'chat.attachment.link',
      target: channelId,
      detail: { attachment: a.id },
    });
    return { url: `/chat/attachments/${encodeURIComponent(a.id)}?${q.toString()}`, expiresAt: exp * 1000 };
  }

  /** The channel (and its org) an attachment belongs to, for the content policy; undefined when unknown. */
  async locate(attachmentId: string): Promise<{ channelId: string; org: string } | undefined> {
    const a = await this.#o.store.getAttachment(attachmentId);
    if (!a) return undefined;
    const channel = await this.#o.store.getChannel(a.channelId);
    return channel ? { channelId: a.channelId, org: channel.org } : undefined;
  }

  /** Check a link (signature, expiry, policy, the person's access now) and open the file. */
  async download(
    attachmentId: string,
    params: { sub: string | null; exp: string | null; sig: string | null },
  ): Promise<{ attachment: StoredAttachment; stream: Readable; size: number }> {
    const { sub, exp, sig } = params;
    if (!sub || !exp || !sig || !/^\d{1,12}$/.test(exp) || !/^[\w-]{43}$/.test(sig))
      throw new MoimError('FORBIDDEN', 'the download link is malformed');
    const expected = Buffer.from(this.#sign(attachmentId, sub, Number(exp)));
    const given = Buffer.from(sig);
    if (expected.length !== given.length || !timingSafeEqual(expected, given))
      throw new MoimError('FORBIDDEN', 'the download link is not valid');
    if (Number(exp) * 1000 < this.#now())
      throw new MoimError('TOKEN_EXPIRED', 'the download link has expired; ask for a new one');
    const a = await this.#o.store.getAttachment(attachmentId);
    if (!a) throw new MoimError('NOT_FOUND', 'no such attachment');
    const channel = await this.#o.store.getChannel(a.channelId);
    if (!channel) throw new MoimError('NOT_FOUND', 'no such attachment');
    // the policy and the membership are checked again: a change since the link was issued wins
    if (!channel.policy.downloadsAllowed) {
      await this.#o.audit.append({
        actor: sub,
        action: 'chat.attachment.download-refused',
        target: a.channelId,
        org: channel.org,
        detail: { attachment: a.id },
      });
      throw new MoimError('POLICY_FORBIDS', 'this channel does not allow downloads');
    }
    // the link was issued to someone of the channel's organisation; membership is re-read
    await this.#o.chat.readable({ sub, org: channel.org, site: '', isAdmin: false }, a.channelId);
    const blob = await this.#o.blobs.get(a.blobKey);
    if (!blob) throw new MoimError('NOT_FOUND', 'the attachment content is gone');
    await this.#o.audit.append({
      actor: sub,
      action: 'chat.attachment.download',
      target: a.channelId,
      org: channel.org,
      detail: { attachment: a.id, name: a.name },
    });
    return { attachment: a, stream: blob.stream, size: blob.size };
  }

  #sign(id: string, sub: string, exp: number): string {
    return createHmac('sha256', this.#o.linkKey)
      .update(JSON.stringify([id, sub, exp]))
      .digest('base64url');
  }
}

/** A file name safe for headers and file systems: no path, no control characters, bounded. */
export function cleanFileName(raw: string): string {
  const base = raw.split(/[\\/]/).pop() ?? '';
  const clean = [...base]
    .filter((ch) => ch.charCodeAt(0) >= 0x20 && ch !== '\u007f' && ch !== '"')
    .join('')
    .trim()
    .slice(0, CHAT_LIMITS.fileName);
  return clean === '' || clean === '.' || clean === '..' ? 'file' : clean;
}

/** The link-signing key: derived from the JWT secret (same on every node), else random per process. */
export function attachmentLinkKey(jwtSecret: string | undefined): Buffer {
  if (!jwtSecret) return randomBytes(32);
  return createHmac('sha256', jwtSecret).update('moim attachment links v1').digest();
}
