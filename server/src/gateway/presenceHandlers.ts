import { MoimError } from '@moim/protocol';
import type { PresenceService } from '../presence/PresenceService.ts';
import type { Gateway, HandlerTable } from './Gateway.ts';

/** Presence subscriptions one connection may hold (teams + sites + people). */
export const MAX_PRESENCE_SUBSCRIPTIONS = 2000;

/** Wire the presence service to the gateway: device lifecycle, activity, and the `presence:*` requests. */
export function wirePresence(gateway: Gateway, presence: PresenceService): void {
  gateway.on('connect', (conn) => {
    const t = conn.principal.token;
    void presence
      .connect({
        connectionId: conn.id,
        deviceId: conn.deviceId,
        sub: t.sub,
        org: t.org,
        name: t.name,
        teams: t.teams,
        site: t.site,
      })
      .catch((err: unknown) => conn.log.error({ err }, 'presence connect failed'));
  });
  gateway.on('disconnect', (conn) => presence.disconnect(conn.id));
  gateway.on('activity', (conn, event) => {
    // presence:activity reports for itself (it may say "idle")
    if (event !== 'presence:activity') presence.activity(conn.id);
  });
  gateway.register(presenceHandlers(presence));
}

export function presenceHandlers(presence: PresenceService): HandlerTable {
  const mine = (sub: string) => {
    const p = presence.snapshot(sub);
    if (!p) throw new MoimError('UNAVAILABLE', 'presence for this connection is not ready yet; retry');
    return p;
  };
  return {
    'presence:set': async (data, conn) => {
      const change: { busy?: boolean; status?: string | null; site?: string } = {};
      if (data.busy !== undefined) change.busy = data.busy;
      if (data.status !== undefined) change.status = data.status;
      if (data.site !== undefined) change.site = data.site;
      return presence.set(conn.principal.sub, change) ?? mine(conn.principal.sub);
    },
    'presence:activity': async (data, conn) => {
      const state = presence.activity(conn.id, data.idle ?? false);
      return { state: state ?? mine(conn.principal.sub).state };
    },
    'presence:subscribe': async (data, conn) => {
      const org = conn.principal.token.org;
      const rooms = presence.subscriptionRooms(org, data);
      const joined = [...conn.socket.rooms].filter((r) => r.startsWith('presence:')).length;
      if (joined + rooms.length > MAX_PRESENCE_SUBSCRIPTIONS)
        throw new MoimError(
          'TOO_MANY_SUBSCRIPTIONS',
          `a connection may hold ${MAX_PRESENCE_SUBSCRIPTIONS} presence subscriptions`,
        );
      // join first, then read the state: a change in between arrives as an update, never lost
      await conn.socket.join(rooms);
      const seen = new Map<string, (typeof people)[number]>();
      const people = [
        ...(data.sites ?? []).flatMap((site) => presence.query({ org, site, limit: MAX_PRESENCE_SUBSCRIPTIONS })),
        ...(data.teams ?? []).flatMap((team) => presence.query({ org, team, limit: MAX_PRESENCE_SUBSCRIPTIONS })),
        ...(data.people?.length ? await presence.get(org, data.people) : []),
      ];
      for (const p of people) seen.set(p.sub, p);
      return { people: [...seen.values()] };
    },
    'presence:unsubscribe': async (data, conn) => {
      for (const room of presence.subscriptionRooms(conn.principal.token.org, data)) await conn.socket.leave(room);
      return {};
    },
    'presence:query': async (data, conn) => ({
      people: presence.query({
        org: conn.principal.token.org,
        site: data.site,
        team: data.team,
        states: data.states,
        limit: data.limit,
      }),
    }),
    'presence:get': async (data, conn) => ({ people: await presence.get(conn.principal.token.org, data.people) }),
  };
}
