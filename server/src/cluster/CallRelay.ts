/**
 * Calls in a cluster: a call lives on the node that placed it (its home, RedisCallDirectory);
 * a request about it from a socket on another node is relayed there over Redis pub/sub
 * (`call-rpc:<node>`) with the caller's verified token and device id, and answered within
 * `timeoutMs` or refused UNAVAILABLE. `call:list` merges the person's calls of every home. The
 * home's `call:update`s reach every node's sockets through the socket.io adapter.
 */
import { randomUUID } from 'node:crypto';
import { type CallInfo, MoimError, type RequestName } from '@moim/protocol';
import { Principal } from '../auth/Principal.ts';
import type { VerifiedToken } from '../auth/TokenService.ts';
import type { CallBus } from '../calls/CallBus.ts';
import { CallElsewhereError } from '../calls/CallDirectory.ts';
import type { CallService } from '../calls/CallService.ts';
import type { Connection, HandlerTable } from '../gateway/Gateway.ts';
import { toWireError } from '../lib/wireErrors.ts';
import type { Logger } from '../logger.ts';
import type { NodeRegistry } from './NodeRegistry.ts';
import type { RedisCallDirectory } from './RedisCallDirectory.ts';
import type { RedisConnections } from './redis.ts';

type Message =
  | { k: 'req'; id: string; from: string; event: RequestName; data: unknown; token: VerifiedToken; deviceId: string }
  | { k: 'res'; id: string; data?: unknown; error?: { code: string; message: string } }
  /** The person has had no connection on any node for the drop grace period: the home's calls drop them. */
  | { k: 'gone'; org: string; sub: string };

type Handler = (data: unknown, conn: Connection) => Promise<unknown>;

/** Requests that name a call (`callId`): served by the call's home. */
const BY_CALL: readonly RequestName[] = [
  'call:accept',
  'call:decline',
  'call:dismiss',
  'call:cancel',
  'call:hangup',
  'call:add',
];

export class CallRelay {
  readonly #o: {
    redis: RedisConnections;
    registry: NodeRegistry;
    directory: RedisCallDirectory;
    calls: CallService;
    bus: CallBus;
    log: Logger;
    timeoutMs: number;
  };
  readonly #channel: string;
  readonly #pending = new Map<string, { resolve: (m: Message & { k: 'res' }) => void; timer: NodeJS.Timeout }>();
  #local: HandlerTable = {};

  constructor(opts: {
    redis: RedisConnections;
    registry: NodeRegistry;
    directory: RedisCallDirectory;
    calls: CallService;
    bus: CallBus;
    log: Logger;
    timeoutMs?: number;
  }) {
    this.#o = { ...opts, timeoutMs: opts.timeoutMs ?? 5000 };
    this.#channel = this.#rpc(opts.registry.nodeId);
    opts.redis.sub.on('message', this.#onMessage);
    opts.registry.on('nodeDead', (node) => {
      this.#nodeDead(node).catch((err: unknown) =>
        opts.log.error({ err, node }, 'call relay: could not end the calls of a dead node'),
      );
    });
  }

  /** A node died: the calls it held failed; their people are told (by whichever node takes them first). */
  async #nodeDead(node: string): Promise<void> {
    const taken = await this.#o.directory.takeCallsOf(node);
    const now = Date.now();
    for (const { org, call } of taken) {
      const people = [call.caller, ...call.callees];
      const ended: CallInfo = {
        ...call,
        state: 'failed',
        reason: 'node-died',
        endedAt: now,
        version: call.version + 1,
        callees: call.callees.map((p) =>
          p.state === 'ringing' || p.state === 'joined'
            ? { ...p, state: p.state === 'joined' ? 'left' : 'missed', at: now }
            : p,
        ),
      };
      for (const p of people) {
        const mine = p.sub === call.caller.sub ? undefined : ended.callees.find((x) => x.sub === p.sub);
        this.#o.bus.toPerson(org, p.sub, {
          ...ended,
          me: { sub: p.sub, state: mine ? mine.state : 'caller', dismissedOn: [], answeredOn: null },
        });
      }
      this.#o.log.warn({ call: call.id, org, node }, 'calls: the call’s node died; its people were told it failed');
    }
  }

  async start(): Promise<void> {
    await this.#o.redis.sub.subscribe(this.#channel);
  }

  async close(): Promise<void> {
    this.#o.redis.sub.off('message', this.#onMessage);
    for (const { timer } of this.#pending.values()) clearTimeout(timer);
    this.#pending.clear();
    await this.#o.redis.sub
      .unsubscribe(this.#channel)
      .catch((err: unknown) => this.#o.log.warn({ err }, 'call relay: unsubscribe failed'));
  }

  /** The call handlers of the gateway: a call held here is served here, any other at its home. */
  gatewayHandlers(local: HandlerTable): HandlerTable {
    this.#local = local;
    const table: Record<string, Handler> = { ...(local as Record<string, Handler>) };
    for (const event of BY_CALL) table[event] = (data, conn) => this.#route(event, data as { callId: string }, conn);
    const start = local['call:start'] as Handler;
    table['call:start'] = async (data, conn) => {
      try {
        return await start(data, conn);
      } catch (err) {
        // the other person is calling me from another node: answer that call there
        if (err instanceof CallElsewhereError) return this.#route('call:accept', { callId: err.callId }, conn);
        throw err;
      }
    };
    table['call:list'] = async (_data, conn) => ({ calls: await this.list(conn.principal, conn.deviceId) });
    return table as HandlerTable;
  }

  /**
   * The person has had no connection on any node for the drop grace period: the other nodes
   * holding their calls drop them too (CallService.personGone there; this node's own calls are
   * the caller's to drop).
   */
  async personGone(org: string, sub: string): Promise<void> {
    const me = this.#o.registry.nodeId;
    const homes = new Set<string>();
    for (const id of await this.#o.directory.callsOf(org, sub)) {
      if (this.#o.calls.holds(id)) continue;
      const home = await this.#o.directory.homeOf(id);
      if (home !== null && home !== me) homes.add(home);
    }
    for (const home of homes) this.#send(home, { k: 'gone', org, sub });
  }

  /** The person's active calls on every node. */
  async list(me: Principal, deviceId: string): Promise<CallInfo[]> {
    const org = me.token.org;
    const mine = this.#o.calls.list(org, me.sub);
    const ids = await this.#o.directory.callsOf(org, me.sub);
    const homes = new Set<string>();
    for (const id of ids) {
      if (this.#o.calls.holds(id) || mine.some((c) => c.id === id)) continue;
      const home = await this.#o.directory.homeOf(id);
      if (home !== null && home !== this.#o.registry.nodeId) homes.add(home);
    }
    const remote = await Promise.all(
      [...homes].map((home) =>
        this.#request(home, 'call:list', {}, me.token, deviceId).then(
          (res) => (res.error ? [] : ((res.data as { calls: CallInfo[] }).calls ?? [])),
          (err: unknown) => {
            this.#o.log.warn({ err, node: home }, 'call relay: a node did not list its calls');
            return [] as CallInfo[];
          },
        ),
      ),
    );
    return [...mine, ...remote.flat()];
  }

  async #route(event: RequestName, data: { callId: string }, conn: Connection): Promise<unknown> {
    const local = this.#local[event] as Handler | undefined;
    if (!local) throw new MoimError('UNKNOWN_EVENT', `${event} is not served`);
    if (this.#o.calls.holds(data.callId)) return local(data, conn);
    const home = await this.#o.directory.homeOf(data.callId);
    if (home === null) throw new MoimError('NOT_FOUND', 'no such call');
    if (home === this.#o.registry.nodeId) return local(data, conn);
    const res = await this.#request(home, event, data, conn.principal.token, conn.deviceId);
    if (res.error) throw new MoimError(res.error.code as never, res.error.message);
    return res.data;
  }

  #rpc(node: string): string {
    return `${this.#o.redis.prefix}call-rpc:${node}`;
  }

  #request(
    node: string,
    event: RequestName,
    data: unknown,
    token: VerifiedToken,
    deviceId: string,
  ): Promise<Message & { k: 'res' }> {
    const id = randomUUID();
    const timeoutMs = this.#o.timeoutMs;
    const message: Message = { k: 'req', id, from: this.#o.registry.nodeId, event, data, token, deviceId };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new MoimError('UNAVAILABLE', `the call's node did not answer within ${timeoutMs} ms; try again`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, timer });
      this.#o.redis.cmd
        .publish(this.#rpc(node), JSON.stringify(message))
        .then((receivers) => {
          if (receivers === 0 && this.#pending.delete(id)) {
            clearTimeout(timer);
            reject(new MoimError('UNAVAILABLE', "the call's node is not reachable"));
          }
        })
        .catch((err: unknown) => {
          if (!this.#pending.delete(id)) return;
          clearTimeout(timer);
          reject(new MoimError('UNAVAILABLE', 'the cluster is unreachable for a moment; try again', { cause: err }));
        });
    });
  }

  #send(node: string, message: Message): void {
    this.#o.redis.cmd
      .publish(this.#rpc(node), JSON.stringify(message))
      .catch((err: unknown) => this.#o.log.warn({ err, node, kind: message.k }, 'call relay: message not sent'));
  }

  #onMessage = (channel: string, raw: string): void => {
    if (channel !== this.#channel) return;
    let message: Message;
    try {
      message = JSON.parse(raw) as Message;
    } catch (err) {
      this.#o.log.error({ err }, 'call relay: unreadable message');
      return;
    }
    if (message.k === 'res') {
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      clearTimeout(pending.timer);
      pending.resolve(message);
      return;
    }
    if (message.k === 'gone') {
      this.#o.log.info(
        { org: message.org, sub: message.sub },
        'calls: a person gone from every node leaves their calls',
      );
      this.#o.calls.personGone(message.org, message.sub);
      return;
    }
    void this.#serve(message);
  };

  /** A request relayed from another node (its gateway validated the payload and the token). */
  async #serve(req: Message & { k: 'req' }): Promise<void> {
    const answer = (res: { data?: unknown; error?: { code: string; message: string } }) =>
      this.#send(req.from, { k: 'res', id: req.id, ...res });
    try {
      const principal = new Principal(req.token);
      if (req.event === 'call:list')
        return answer({ data: { calls: this.#o.calls.list(principal.token.org, principal.sub) } });
      const handler = this.#local[req.event] as Handler | undefined;
      if (!handler || !BY_CALL.includes(req.event))
        return answer({ error: { code: 'UNKNOWN_EVENT', message: `${req.event} is not relayed` } });
      const conn = {
        id: `relay-${req.from}`,
        deviceId: req.deviceId,
        principal,
        log: this.#o.log,
      } as unknown as Connection;
      answer({ data: await handler(req.data, conn) });
    } catch (err) {
      const wire = toWireError(err);
      if (!wire) this.#o.log.error({ err, event: req.event }, 'call relay: relayed request failed');
      const e = wire ?? new MoimError('INTERNAL', 'internal error');
      answer({ error: { code: e.code, message: e.message } });
    }
  }
}
