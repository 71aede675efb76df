/**
 * Calls in a cluster: a call lives on the node that placed it (its home, RedisCallDirectory);
 * a request about it from a socket on another node is relayed there over Redis pub/sub
 * (`call-rpc:<node>`) with the caller's verified token and device id, and answered within
 * `timeoutMs` or refused UNAVAILABLE. `call:list` merges the person's calls of every home. The
 * home's `call:update`s reach every node's sockets through the socket.io adapter.
 */
import { type CallInfo, MoimError, type RequestName } from '@moim/protocol';
import { z } from 'zod';
import { Principal } from '../auth/Principal.ts';
import type { CallBus } from '../calls/CallBus.ts';
import { CallElsewhereError } from '../calls/CallDirectory.ts';
import type { CallService } from '../calls/CallService.ts';
import type { Connection, HandlerTable } from '../gateway/Gateway.ts';
import type { Logger } from '../logger.ts';
import type { NodeRegistry } from './NodeRegistry.ts';
import type { RedisCallDirectory } from './RedisCallDirectory.ts';
import { RedisRpc, relayedRequest, relayedToken, rpcAnswerSchema } from './RedisRpc.ts';
import type { RedisConnections } from './redis.ts';

const messageSchema = z.discriminatedUnion('k', [
  z.object({ ...relayedRequest, data: z.unknown(), token: relayedToken, deviceId: z.string() }),
  rpcAnswerSchema,
  /** The person has had no connection on any node for the drop grace period: the home's calls drop them. */
  z.object({ k: z.literal('gone'), org: z.string(), sub: z.string() }),
  /**
   * Someone (`sub`) left the meeting room, or (no `sub`) it closed: the invitations into it held
   * there are checked (`rejoin`: it closed under its people, who join again — checked after the
   * rejoin grace; older nodes drop the flag).
   */
  z.object({ k: z.literal('meeting'), roomId: z.string(), sub: z.string().optional(), rejoin: z.boolean().optional() }),
]);
type Message = z.infer<typeof messageSchema>;
type Answer = Message & { k: 'res' };

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
  readonly #rpc: RedisRpc<Message>;
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
    this.#rpc = new RedisRpc<Message>({
      redis: opts.redis,
      nodeId: opts.registry.nodeId,
      name: 'call-rpc',
      schema: messageSchema,
      onMessage: (m) => this.#onMessage(m),
      peer: () => "the call's node",
      timeoutMs: this.#o.timeoutMs,
      log: opts.log,
      label: 'call relay',
    });
    opts.registry.on('nodeDead', (node) => {
      this.#rpc.nodeDead(node);
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
    await this.#rpc.start();
  }

  async close(): Promise<void> {
    await this.#rpc.close();
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
    for (const home of await this.#otherHomes(org, sub)) this.#send(home, { k: 'gone', org, sub });
  }

  /** The other nodes holding calls of the person (this node's own are left out). */
  async #otherHomes(org: string, sub: string): Promise<Set<string>> {
    const me = this.#o.registry.nodeId;
    const homes = new Set<string>();
    for (const id of await this.#o.directory.callsOf(org, sub)) {
      if (this.#o.calls.holds(id)) continue;
      const home = await this.#o.directory.homeOf(id);
      if (home !== null && home !== me) homes.add(home);
    }
    return homes;
  }

  /**
   * The person left the meeting room `roomId` on this node (MediaService `memberLeft`): this
   * node's invitations into it are checked, and so are those of the nodes holding the person's
   * other calls (an inviter's invitation lives where they sent it, not where the room is).
   */
  async meetingLeft(org: string, roomId: string, sub: string): Promise<void> {
    this.#o.calls.meetingChanged(roomId, sub);
    for (const home of await this.#otherHomes(org, sub)) this.#send(home, { k: 'meeting', roomId, sub });
  }

  /** The live room `roomId` closed on this node: every node checks its invitations into it (rare: told to all). */
  async meetingClosed(roomId: string, rejoining = false): Promise<void> {
    this.#o.calls.meetingChanged(roomId, undefined, rejoining);
    const me = this.#o.registry.nodeId;
    for (const node of await this.#o.registry.alive())
      if (node.id !== me) this.#send(node.id, { k: 'meeting', roomId, ...(rejoining ? { rejoin: true } : {}) });
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

  #request(
    node: string,
    event: RequestName,
    data: unknown,
    token: Principal['token'],
    deviceId: string,
  ): Promise<Answer> {
    return this.#rpc.request<Answer>(node, (id) => ({
      k: 'req',
      id,
      from: this.#o.registry.nodeId,
      event,
      data,
      token,
      deviceId,
    }));
  }

  #send(node: string, message: Message): void {
    this.#rpc.send(node, message);
  }

  #onMessage(message: Message): unknown {
    if (message.k === 'res') return; // answers go to their requests (RedisRpc)
    if (message.k === 'gone') {
      this.#o.log.info(
        { org: message.org, sub: message.sub },
        'calls: a person gone from every node leaves their calls',
      );
      this.#o.calls.personGone(message.org, message.sub);
      return;
    }
    if (message.k === 'meeting') {
      this.#o.calls.meetingChanged(message.roomId, message.sub, message.rejoin === true);
      return;
    }
    return this.#serve(message);
  }

  /** A request relayed from another node (its gateway validated the payload and the token). */
  #serve(req: Message & { k: 'req' }): Promise<void> {
    return this.#rpc.answer(
      req.from,
      req.id,
      async () => {
        const principal = new Principal(req.token);
        if (req.event === 'call:list')
          return { data: { calls: this.#o.calls.list(principal.token.org, principal.sub) } };
        const handler = this.#local[req.event] as Handler | undefined;
        if (!handler || !BY_CALL.includes(req.event))
          throw new MoimError('UNKNOWN_EVENT', `${req.event} is not relayed`);
        const conn = {
          id: `relay-${req.from}`,
          deviceId: req.deviceId,
          principal,
          log: this.#o.log,
        } as unknown as Connection;
        return { data: await handler(req.data, conn) };
      },
      { event: req.event },
    );
  }
}
