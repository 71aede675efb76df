/**
 * Wires the data-leak policy into the node: the gates of the HTTP router and the gateway (every
 * route and event registered with a content mark), the policy routes (`GET|PUT /policies/:kind/:id`)
 * and `policy:get` (which also follows the item's changes on the socket).
 */
import {
  type ContentPolicyView,
  contentPolicySchema,
  MoimError,
  POLICY_KINDS,
  type PolicyKind,
  policyTargetSchema,
  setContentPolicyRequest,
} from '@moim/protocol';
import { z } from 'zod';
import { Principal } from '../auth/Principal.ts';
import type { StepUp } from '../auth/StepUp.ts';
import type { TokenService } from '../auth/TokenService.ts';
import { chatRoom } from '../chat/ChatBus.ts';
import { type Gateway, joinNow, leaveNow } from '../gateway/Gateway.ts';
import { bearerToken, type HttpRouter, type RouteContext, readJson } from '../http/HttpRouter.ts';
import { serverSideChannel } from '../lib/serverSideEvents.ts';
import type { Logger } from '../logger.ts';
import type { Stores } from '../storage/index.ts';
import { ContentPolicy, type PolicyItems, policyRoom } from './ContentPolicy.ts';

const kindSchema = z.enum(POLICY_KINDS);

/** Policies one connection may follow at once (`policy:get`): the rooms and documents open in a tab. */
export const MAX_POLICY_FOLLOWS = 200;

/** Items looked up in their own stores: existence in the org, ownership, the older switches. */
export function storeItems(stores: Pick<Stores, 'rooms' | 'chat' | 'docs'>): PolicyItems {
  return {
    async find(org, kind, id, sub) {
      if (kind === 'room') {
        const r = await stores.rooms.get(org, id);
        return r ? { owner: r.ownerSub === sub } : undefined;
      }
      if (kind === 'channel') {
        const a = await stores.chat.access(id, sub);
        return a && a.channel.org === org ? { owner: a.member?.role === 'owner' } : undefined;
      }
      const d = await stores.docs.get({ org, name: id });
      return d ? { owner: d.owner === sub } : undefined;
    },
    async visible(principal, kind, id) {
      if (kind === 'room') return principal.hasRoom(id, 'join');
      if (kind === 'doc') return principal.hasDoc(id, 'read');
      const a = await stores.chat.access(id, principal.sub);
      return !!a && a.channel.org === principal.token.org && (a.member !== undefined || a.channel.kind === 'public');
    },
    async legacy(org, kind, id) {
      if (kind === 'channel') {
        const c = await stores.chat.getChannel(id);
        return c && c.org === org ? { download: c.policy.downloadsAllowed } : {};
      }
      if (kind === 'doc') {
        const d = await stores.docs.get({ org, name: id });
        return d ? { export: d.policy.exportAllowed } : {};
      }
      return {};
    },
  };
}

export function wireContentPolicy(d: {
  router: HttpRouter;
  gateway: Gateway;
  tokens: TokenService;
  stores: Stores;
  maxBodyBytes: number;
  /** Changing a policy is a sensitive action: a fresh second factor where step-up is on (auth/StepUp.ts). */
  stepUp?: () => StepUp | undefined;
  log: Logger;
  /** In a cluster every node hears every change (over the socket.io adapter) and ends its own connections. */
  clustered?: boolean;
}): ContentPolicy {
  const policy = new ContentPolicy({
    store: d.stores.policies,
    audit: d.stores.audit,
    items: storeItems(d.stores),
    publish: (org, view) => d.gateway.io.to(policyRoom(org, view.kind, view.id)).emit('policy:changed', view),
    log: d.log,
  });

  if (d.clustered) relayChanges(policy, d.gateway, d.log);
  // guests shut out of a channel leave its live room on this node at once (history is refused by the gate)
  policy.on('changed', (org, view) => {
    if (view.kind !== 'channel' || view.policy.guests) return;
    for (const conn of d.gateway.connections()) {
      if (conn.principal.token.org !== org || !conn.socket.rooms.has(chatRoom(view.id))) continue;
      if (policy.isGuest(conn.principal, 'channel')) leaveNow(conn, chatRoom(view.id));
    }
  });
  d.router.contentGate = async (ctx, mark) => {
    const target = await mark.target(ctx);
    const token = bearerToken(ctx.req, ctx.url);
    // a signed link carries no bearer token: its service checks the person, the gate the policy's switches
    const principal = token === undefined ? undefined : new Principal(d.tokens.verify(token));
    if (!principal && target.org === undefined) throw new MoimError('TOKEN_MISSING', 'this needs a Bearer token');
    if (principal && target.org !== undefined && target.org !== principal.token.org)
      throw new MoimError('NOT_FOUND', `no such ${mark.kind}`);
    await policy.check(principal, mark.kind, target.id, mark.action, target.org ?? principal?.token.org);
  };
  d.gateway.contentGate = async (conn, mark, data) => {
    await policy.check(conn.principal, mark.kind, mark.target(data as never), mark.action);
  };

  const principalOf = ({ req, url }: RouteContext) => new Principal(d.tokens.verify(bearerToken(req, url)));
  const itemOf = (ctx: RouteContext): { kind: PolicyKind; id: string } => {
    const kind = kindSchema.safeParse(ctx.params.kind);
    const id = policyTargetSchema.safeParse(ctx.params.id);
    if (!kind.success) throw new MoimError('INVALID_PAYLOAD', 'kind: room, channel or doc');
    if (!id.success) throw new MoimError('INVALID_PAYLOAD', 'id: 1 to 128 characters');
    return { kind: kind.data, id: id.data };
  };
  d.router.add('GET', '/policies/:kind/:id', async (ctx) => {
    const { kind, id } = itemOf(ctx);
    return { body: await policy.get(principalOf(ctx), kind, id) };
  });
  d.router.add('PUT', '/policies/:kind/:id', async (ctx) => {
    const principal = principalOf(ctx);
    const { kind, id } = itemOf(ctx);
    d.stepUp?.()?.require(principal, 'changing a data-leak policy');
    const changes = await readJson(ctx.req, setContentPolicyRequest, d.maxBodyBytes);
    return { body: await policy.set(principal, kind, id, changes) };
  });

  d.gateway.register({
    'policy:get': async (data, conn) => {
      const view = await policy.get(conn.principal, data.kind, data.id);
      const room = policyRoom(conn.principal.token.org, data.kind, data.id);
      if (!conn.socket.rooms.has(room)) {
        let followed = 0;
        for (const r of conn.socket.rooms) if (r.startsWith('policy:')) followed++;
        if (followed >= MAX_POLICY_FOLLOWS)
          throw new MoimError('TOO_MANY_SUBSCRIPTIONS', `a connection follows at most ${MAX_POLICY_FOLLOWS} policies`);
      }
      joinNow(conn, room);
      return view;
    },
    'policy:report': async (data, conn) => {
      const org = conn.principal.token.org;
      conn.log.warn(
        { kind: data.kind, id: data.id, what: data.what },
        'policy: a client reported its watermark removed',
      );
      await d.stores.audit.append({
        actor: conn.principal.sub,
        action: `policy.${data.what}`,
        target: data.id,
        org,
        detail: { kind: data.kind, device: conn.deviceId },
      });
      return {};
    },
  });
  // another organisation's token: the policies followed in the old one are left
  d.gateway.on('reauth', (conn, previous, next) => {
    if (previous.token.org === next.token.org) return;
    for (const room of [...conn.socket.rooms]) if (room.startsWith('policy:')) leaveNow(conn, room);
  });
  return policy;
}

/** The adapter's server-side event that carries a policy change to the other nodes. */
const CHANGED_ELSEWHERE = 'moim:policy:changed';
const relayedChange = z
  .object({
    org: z.string().min(1).max(128),
    view: z.object({ kind: z.enum(POLICY_KINDS), id: policyTargetSchema, policy: contentPolicySchema }).strict(),
  })
  .strict();

/**
 * Each change made here reaches the other nodes' `changed` listeners (which end the connections
 * on that node the change shuts out: guests in a channel's live room, guests' open `/yjs`).
 */
function relayChanges(policy: ContentPolicy, gateway: Gateway, log: Logger): void {
  const send = serverSideChannel(gateway.io, CHANGED_ELSEWHERE, relayedChange, {
    log,
    what: 'policy',
    receive: (msg) => policy.changedElsewhere(msg.org, msg.view),
  });
  policy.on('changed', (org, view, here) => {
    if (here) send({ org, view } satisfies { org: string; view: ContentPolicyView });
  });
}
