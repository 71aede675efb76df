/**
 * How a document's new title travels (`DocTitleNotices`): `doc:title` to the person rooms of the
 * people who have it open, and in a cluster every rename made on this node as the adapter's
 * server-side event `moim:doc:title` to the other nodes, which tell their own holders (each arriving
 * message checked against its schema first).
 */
import { type DocTitleEvent, docNameSchema, normalizeDocTitle } from '@moim/protocol';
import { z } from 'zod';
import { type MoimServer, personRoom } from '../lib/rooms.ts';
import { serverSideChannel } from '../lib/serverSideEvents.ts';
import type { Logger } from '../logger.ts';
import type { DocTitleNotices } from './DocTitleNotices.ts';

/** The adapter's server-side event that carries a rename to the other nodes. */
export const TITLE_ELSEWHERE = 'moim:doc:title';

const relayedTitle = z
  .object({
    org: z.string().min(1).max(128),
    event: z
      .object({
        name: docNameSchema,
        title: z
          .string()
          .min(1)
          .max(4 * 200)
          .refine((t) => normalizeDocTitle(t) === t, 'a stored title'),
        by: z.string().min(1).max(256),
        at: z.number().int().nonnegative(),
      })
      .strict(),
  })
  .strict();

export function wireDocTitleBus(
  notices: DocTitleNotices,
  io: MoimServer,
  opts: { clustered: boolean; log: Logger },
): void {
  notices.publish = (org, subs, event) => {
    io.to(subs.map((sub) => personRoom(org, sub))).emit('doc:title', event);
  };
  if (!opts.clustered) return;
  const send = serverSideChannel(io, TITLE_ELSEWHERE, relayedTitle, {
    log: opts.log,
    what: 'docs: title',
    receive: (msg) => void notices.changed(msg.org, msg.event, false),
  });
  notices.relay = (org, event) => send({ org, event } satisfies { org: string; event: DocTitleEvent });
}
