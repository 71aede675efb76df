import type { CallInfo } from '@moim/protocol';
import type { Principal } from '../auth/Principal.ts';
import type { CallService } from '../calls/CallService.ts';
import type { Connection, Gateway, HandlerTable } from './Gateway.ts';

/** What the cluster's call relay (cluster/CallRelay.ts) adds: calls held by other nodes. */
export interface CallRelayHooks {
  gatewayHandlers(local: HandlerTable): HandlerTable;
  list(me: Principal, deviceId: string): Promise<CallInfo[]>;
  /** The person is gone from every node: the nodes holding their calls drop them. */
  personGone(org: string, sub: string): Promise<void>;
}

/**
 * Wire calls to the gateway: the `call:*` requests; a device that connects is told of the calls
 * ringing for (or running with) its person, as that person sees them (a device that dismissed a
 * ring finds its id in `me.dismissedOn`); a person with no connection left for `dropGraceMs`
 * leaves the calls they are in. In a cluster, `connected` says whether the person still has a
 * connection on another node (presence), and the calls held by other nodes drop them too.
 */
export function wireCalls(
  gateway: Gateway,
  calls: CallService,
  opts: {
    dropGraceMs: number;
    relay?: CallRelayHooks | undefined;
    connected?: ((org: string, sub: string) => Promise<boolean>) | undefined;
  },
): void {
  const local = callHandlers(calls);
  const relay = opts.relay;
  gateway.register(relay ? relay.gatewayHandlers(local) : local);
  const tell = (conn: Connection, list: CallInfo[]) => {
    for (const call of list) if (conn.socket.connected) conn.socket.emit('call:update', call);
  };
  gateway.on('connect', (conn) => {
    if (!relay) return tell(conn, calls.list(conn.principal.token.org, conn.principal.sub));
    relay.list(conn.principal, conn.deviceId).then(
      (list) => tell(conn, list),
      (err: unknown) => conn.log.warn({ err }, 'calls: could not list the calls of a new connection'),
    );
  });
  const waiting = new Map<string, NodeJS.Timeout>();
  /** Cluster: gone from this node; if connected nowhere else, every node holding their calls drops them. */
  const gone = async (org: string, sub: string) => {
    if (opts.connected && (await opts.connected(org, sub))) return;
    if (gateway.connectionsOf(org, sub) > 0) return; // back here meanwhile
    calls.personGone(org, sub);
    await relay?.personGone(org, sub);
  };
  gateway.on('disconnect', (conn) => {
    const { org, sub } = { org: conn.principal.token.org, sub: conn.principal.sub };
    const key = conn.principal.key;
    if (gateway.connectionsOf(org, sub) > 0 || waiting.has(key)) return;
    const timer = setTimeout(() => {
      waiting.delete(key);
      if (gateway.connectionsOf(org, sub) > 0) return;
      if (!relay) return calls.personGone(org, sub);
      void gone(org, sub).catch((err: unknown) =>
        conn.log.warn({ err, org, sub }, 'calls: could not drop a person gone from every node from their calls'),
      );
    }, opts.dropGraceMs);
    timer.unref();
    waiting.set(key, timer);
  });
}

export function callHandlers(calls: CallService): HandlerTable {
  const device = (c: Connection) => c.deviceId;
  return {
    'call:start': (d, c) => calls.start(c.principal, device(c), d),
    'call:invite': (d, c) => calls.invite(c.principal, device(c), d),
    'call:accept': (d, c) => calls.accept(c.principal, device(c), d),
    'call:decline': (d, c) => calls.decline(c.principal, device(c), d),
    'call:dismiss': (d, c) => calls.dismiss(c.principal, device(c), d),
    'call:cancel': (d, c) => calls.cancel(c.principal, d),
    'call:hangup': (d, c) => calls.hangup(c.principal, d),
    'call:add': (d, c) => calls.add(c.principal, d),
    'call:list': async (_d, c) => ({ calls: calls.list(c.principal.token.org, c.principal.sub) }),
  };
}
