import type { TrustedProxies } from '../http/clientAddress.ts';
import type { Whereabouts } from '../telework/Whereabouts.ts';
import type { Gateway } from './Gateway.ts';

/**
 * Wire telework's Whereabouts to the gateway's connection lifecycle, beside presence (which it
 * leaves as it is): a connection's client address, resolved through the trusted proxies from its
 * handshake request, on `connect`; `disconnect` (after the heartbeat window) and `activity` as
 * they come; a refreshed token for another org as a disconnect and a new connection. Each failure
 * is logged with the connection's context.
 */
export function wireTeleworkPresence(gateway: Gateway, whereabouts: Whereabouts, proxies: TrustedProxies): void {
  gateway.on('connect', (conn) => {
    const address = proxies.clientOf(conn.socket.request);
    whereabouts
      .connected(conn.id, conn.principal, address)
      .catch((err: unknown) => conn.log.error({ err, address }, 'telework: could not follow a connection'));
  });
  gateway.on('disconnect', (conn) => {
    whereabouts
      .disconnected(conn.id)
      .catch((err: unknown) => conn.log.error({ err }, 'telework: could not close a connection’s day'));
  });
  gateway.on('reauth', (conn, previous, next) => {
    if (previous.token.org === next.token.org) return;
    // another organisation: the connection leaves the old org's person and arrives as the new one
    const address = proxies.clientOf(conn.socket.request);
    whereabouts
      .disconnected(conn.id)
      .then(() => whereabouts.connected(conn.id, next, address))
      .catch((err: unknown) => conn.log.error({ err }, 'telework: could not follow a refreshed token'));
  });
  gateway.on('activity', (conn) => {
    // undefined when there is nothing to do (the person's day is open): the common case, no promise
    whereabouts
      .activity(conn.id)
      ?.catch((err: unknown) => conn.log.error({ err }, 'telework: could not follow activity'));
  });
}
