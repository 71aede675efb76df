import { z } from 'zod';

/**
 * Data-leak policies (one per video room, chat channel and document): what may leave moim and how
 * it is shown. Set by the item's owners and admins (`PUT /policies/:kind/:id`, audited); checked by
 * the server's ContentPolicy at every route and event that returns stored content; live sockets
 * that asked for a policy (`policy:get`) receive `policy:changed` at once.
 */
export const POLICY_KINDS = ['room', 'channel', 'doc'] as const;
export type PolicyKind = (typeof POLICY_KINDS)[number];

/**
 * - `download`: attachments and recordings may be downloaded (links too)
 * - `export`: documents may be exported, and their saved versions read
 * - `record`: the room may be recorded
 * - `watermark`: clients draw the viewer's name, id and time over video, screen shares and documents
 * - `guests`: guests (people whose grants name this item only, never `*`) may read stored content
 */
export const contentPolicySchema = z
  .object({
    download: z.boolean(),
    export: z.boolean(),
    record: z.boolean(),
    watermark: z.boolean(),
    guests: z.boolean(),
  })
  .strict();
export type ContentPolicyFields = z.infer<typeof contentPolicySchema>;

export const DEFAULT_CONTENT_POLICY: ContentPolicyFields = {
  download: true,
  export: true,
  record: true,
  watermark: false,
  guests: true,
};

/** `PUT /policies/:kind/:id` body: the fields to change. */
export const setContentPolicyRequest = contentPolicySchema.partial().strict();

/** The item ids a policy may name (room ids, channel ids, document names). */
export const policyTargetSchema = z.string().min(1).max(128);

export interface ContentPolicyView {
  kind: PolicyKind;
  id: string;
  policy: ContentPolicyFields;
}

export const policyRequests = {
  /** The item's effective policy; the socket then receives `policy:changed` for it (until it leaves). */
  'policy:get': z.object({ kind: z.enum(POLICY_KINDS), id: policyTargetSchema }).strict(),
  /** A client saw its watermark removed or hidden from the page (and restored it): audited. */
  'policy:report': z
    .object({ kind: z.enum(POLICY_KINDS), id: policyTargetSchema, what: z.enum(['watermark-removed']) })
    .strict(),
} as const;

export interface PolicyResponses {
  'policy:get': ContentPolicyView;
  'policy:report': Record<string, never>;
}

export interface PolicyServerEvents {
  /** A policy this socket asked for changed (owners and admins change them; no reconnect needed). */
  'policy:changed': (event: ContentPolicyView) => void;
}
