import { MoimError } from '@moim/protocol';
import type { Principal } from '../auth/Principal.ts';
import { presenceRooms } from '../presence/PresenceBus.ts';
import type { DeviceIdentity, PresenceService } from '../presence/PresenceService.ts';
import { type Connection, type Gateway, type HandlerTable, leaveNow } from './Gateway.ts';

/** Presence subscriptions one connection may hold (teams + sites + people). */
export const MAX_PRESENCE_SUBSCRIPTIONS = 2000;

function identity(conn: Connection): DeviceIdentity {
  const t = conn.principal.token;
  return {
    connectionId: conn.id,
    deviceId: conn.deviceId,
    sub: t.sub,
    org: t.org,
    name: t.name,
    teams: t.teams,
    site: t.site,
  };
}

/**
 * After a token refresh: presence subscriptions are allowed for anyone of the org, so the ones of
 * any other org than the new token's are left (an org change drops all of the old org's), at once.
 */
export function dropPresenceSubscriptions(conn: Connection, next: Principal): void {
  const org = next.token.org;
  for (const room of [...conn.socket.rooms])
    if (presenceRooms.isRoom(room) && !presenceRooms.inOrg(room, org)) leaveNow(conn, room);
}

/** Wire the presence service to the gateway: device lifecycle, activity, and the `presence:*` requests. */
export function wirePresence(gateway: Gateway, presence: PresenceService): void {
  gateway.on('connect', (conn) => {
    presence.connect(identity(conn)).catch((err: unknown) => conn.log.error({ err }, 'presence connect failed'));
  });
  gateway.on('disconnect', (conn, reason) => presence.disconnect(conn.id, reason));
  gateway.on('activity', (conn, event) => {
    // presence:activity reports for itself (it may say "idle")
    if (event !== 'presence:activity') presence.activity(conn.id);
  });
  gateway.on('reauth', (conn, _previous, next) => {
    dropPresenceSubscriptions(conn, next);
    presence
      .reidentify(identity(conn))
      .catch((err: unknown) => conn.log.error({ err }, 'presence: could not follow the refreshed token'));
  });
  gateway.register(presenceHandlers(presence));
}

export function presenceHandlers(presence: PresenceService): HandlerTable {
  const mine = async (conn: Connection) => {
    const p = await presence.snapshot(conn.principal.token.org, conn.principal.sub);
    if (!p) throw new MoimError('UNAVAILABLE', 'presence for this connection is not ready yet; retry');
    return p;
  };
  return {
    'presence:set': async (data, conn) => {
      const change: { busy?: boolean; status?: string | null; site?: string } = {};
      if (data.busy !== undefined) change.busy = data.busy;
      if (data.status !== undefined) change.status = data.status;
      if (data.site !== undefined) change.site = data.site;
      return presence.set(conn.principal.token.org, conn.principal.sub, change) ?? mine(conn);
    },
    'presence:activity': async (data, conn) => {
      const state = presence.activity(conn.id, data.idle ?? false);
      return { state: state ?? (await mine(conn)).state };
    },
    'presence:subscribe': async (data, conn) => {
      const org = conn.principal.token.org;
      const rooms = presence.subscriptionRooms(org, data);
      const joined = [...conn.socket.rooms].filter(presenceRooms.isRoom).length;
      if (joined + rooms.length > MAX_PRESENCE_SUBSCRIPTIONS)
        throw new MoimError(
          'TOO_MANY_SUBSCRIPTIONS',
          `a connection may hold ${MAX_PRESENCE_SUBSCRIPTIONS} presence subscriptions`,
        );
      // join first, then read the state: a change in between arrives as an update, never lost
      await conn.socket.join(rooms);
      const seen = new Map<string, (typeof people)[number]>();
      const queries = [
        ...(data.sites ?? []).map((site) => presence.query({ org, site, limit: MAX_PRESENCE_SUBSCRIPTIONS })),
        ...(data.teams ?? []).map((team) => presence.query({ org, team, limit: MAX_PRESENCE_SUBSCRIPTIONS })),
      ];
      const people = [
        ...(await Promise.all(queries)).flat(),
        ...(data.people?.length ? await presence.get(org, data.people) : []),
      ];
      if (conn.principal.token.org !== org) {
        // the token was refreshed for another organisation meanwhile: nothing of the old one stays
        dropPresenceSubscriptions(conn, conn.principal);
        throw new MoimError('FORBIDDEN', 'the token changed organisation during this request');
      }
      for (const p of people) seen.set(p.sub, p);
      return { people: [...seen.values()] };
    },
    'presence:unsubscribe': async (data, conn) => {
      for (const room of presence.subscriptionRooms(conn.principal.token.org, data)) await conn.socket.leave(room);
      return {};
    },
    'presence:query': async (data, conn) => ({
      people: await presence.query({
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
