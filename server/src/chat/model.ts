/**
 * Chat's shared vocabulary: the caller (`ChatActor`), the limits, what the chat parts are built
 * from (`ChatDeps`), and the mapping of stored
 * channels and messages onto their wire shapes (`@moim/protocol`), with the site channel's id.
 * No state, no I/O.
 */
import { createHash } from 'node:crypto';
import type { Channel, ChatMessage } from '@moim/protocol';
import type { Logger } from '../logger.ts';
import type { AuditStore } from '../storage/AuditStore.ts';
import type { ChatStore, StoredChannel, StoredMessage } from '../storage/ChatStore.ts';
import type { ChatBus } from './ChatBus.ts';

/** The caller, from their verified token. */
export interface ChatActor {
  sub: string;
  org: string;
  site: string;
  isAdmin: boolean;
  /** The token's teams: each has a team channel (private to the team), joined on first use. */
  teams?: readonly string[] | undefined;
  /** `personKey(org, sub)` when the caller has it already (a connection's principal): not rebuilt per message. */
  key?: string | undefined;
}

export interface ChatLimits {
  maxMessageChars: number;
  messagesPerSec: number;
  maxMembers: number;
}

/** What the channel and message operations share: durable state, fan-out, audit, log, limits. */
export interface ChatDeps {
  store: ChatStore;
  bus: ChatBus;
  audit: AuditStore;
  log: Logger;
  limits: ChatLimits;
}

/** Unread counts stop at this many. */
export const UNREAD_CAP = 1000;

/** `site-<site>` for the default organisation, with a short org hash otherwise. */
export function siteChannelId(org: string, site: string): string {
  if (org === 'default') return `site-${site}`;
  return `site-${site}-${createHash('sha256').update(org).digest('hex').slice(0, 8)}`;
}

/** The organisation-wide channel everyone is in: `org-everyone`, with a short org hash outside the default org. */
export function orgChannelId(org: string): string {
  if (org === 'default') return 'org-everyone';
  return `org-everyone-${createHash('sha256').update(org).digest('hex').slice(0, 8)}`;
}

/** A team's channel (team names are free text: the id is a hash of org and team). */
export function teamChannelId(org: string, team: string): string {
  return `team-${createHash('sha256')
    .update(JSON.stringify([org, team]))
    .digest('hex')
    .slice(0, 24)}`;
}

/** Characters as people count them (code points, not UTF-16 units). */
export function countChars(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

export function toChannel(c: StoredChannel): Channel {
  return {
    id: c.id,
    kind: c.kind,
    name: c.name,
    topic: c.topic,
    site: c.site,
    createdBy: c.createdBy,
    createdAt: c.createdAt,
    policy: { ...c.policy },
    lastSeq: c.lastSeq,
    memberCount: c.memberCount,
  };
}

export function toMessage(m: StoredMessage): ChatMessage {
  return m;
}
