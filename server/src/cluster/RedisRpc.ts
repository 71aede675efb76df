/**
 * One node's request/answer channel over Redis pub/sub, the one mechanism under the cluster's
 * relays (MediaRelay `rpc:<node>`, CallRelay `call-rpc:<node>`, Cascade `cascade:<node>`). Each
 * node listens on `<prefix><name>:<node>`; a message is a JSON object whose `k` names its kind.
 *
 * - `request` publishes a message carrying a fresh `id` and waits for the message that answers it
 *   (a kind listed in `answers`, same `id`): UNAVAILABLE after the timeout, at once when nobody
 *   listens on the node's channel (`PUBLISH` reached 0 subscribers: the node is gone though its
 *   lease has not lapsed), when Redis is unreachable, or when the node is declared dead.
 * - `send` is fire and forget (a failure is logged with the node and the kind).
 * - `answer` runs a request's work and sends the standard answer (`res` with its data, or the
 *   error as the client should see it; an unexpected error is logged and answered INTERNAL).
 * - What arrives is parsed and checked against the relay's schema: an unreadable or malformed
 *   message is logged and dropped; answers go to their pending request; every other message to
 *   `onMessage`, whose failure (thrown or rejected) is logged, never lost.
 */
import { randomUUID } from 'node:crypto';
import { MoimError, type RequestName, requestSchemas } from '@moim/protocol';
import { z } from 'zod';
import type { VerifiedToken } from '../auth/TokenService.ts';
import { toWireError } from '../lib/wireErrors.ts';
import { describeZodError } from '../lib/zodError.ts';
import type { Logger } from '../logger.ts';
import type { RedisConnections } from './redis.ts';

/** Every relayed message names its kind. */
export interface RpcMessage {
  k: string;
}

/** The standard answer to a request: its data, or the error the asking node's client gets. */
export const rpcAnswerSchema = z.object({
  k: z.literal('res'),
  id: z.string(),
  data: z.unknown().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
export type RpcAnswer = z.infer<typeof rpcAnswerSchema>;

/** A token the sending node verified (relays carry the caller's). */
export const relayedToken = z.custom<VerifiedToken>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { sub?: unknown }).sub === 'string' &&
    typeof (v as { org?: unknown }).org === 'string' &&
    typeof (v as { exp?: unknown }).exp === 'number',
  'not a verified token',
);

/** The fields of a relayed gateway request: its id, the asking node, the event of @moim/protocol. */
export const relayedRequest = {
  k: z.literal('req'),
  id: z.string(),
  from: z.string(),
  event: z.custom<RequestName>(
    (v) => typeof v === 'string' && Object.hasOwn(requestSchemas, v),
    'not a request of @moim/protocol',
  ),
};

export interface RedisRpcOptions<M extends RpcMessage> {
  redis: RedisConnections;
  /** This node: it listens on `<prefix><name>:<nodeId>`. */
  nodeId: string;
  /** The channel family (`rpc`, `call-rpc`, `cascade`). */
  name: string;
  /** What may arrive; anything else is logged and dropped. */
  schema: z.ZodType<M>;
  /** The kinds of message that answer a request (each carries the request's `id`). @default ['res'] */
  answers?: readonly string[] | undefined;
  /** Every message that is not an answer. Its failure (a throw, a rejected promise) is logged. */
  onMessage: (message: M) => unknown;
  /** Who is asked, as error messages name it. @default `node <id>` */
  peer?: ((node: string) => string) | undefined;
  /** How long a request may wait for its answer. @default 5000 */
  timeoutMs?: number | undefined;
  /** Logs carry the subsystem (`media relay`, `call relay`, `cascade`) and the context. */
  log: Logger;
  /** Subsystem name in log lines. @default name */
  label?: string | undefined;
}

interface Pending {
  node: string;
  kind: string;
  resolve: (m: RpcMessage) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class RedisRpc<M extends RpcMessage> {
  readonly #o: RedisRpcOptions<M>;
  readonly #channel: string;
  readonly #answers: ReadonlySet<string>;
  readonly #pending = new Map<string, Pending>();
  readonly #label: string;
  #closed = false;

  constructor(opts: RedisRpcOptions<M>) {
    this.#o = opts;
    this.#channel = this.channelOf(opts.nodeId);
    this.#answers = new Set(opts.answers ?? ['res']);
    this.#label = opts.label ?? opts.name;
    opts.redis.sub.on('message', this.#onRaw);
  }

  /** The channel `node` listens on. */
  channelOf(node: string): string {
    return `${this.#o.redis.prefix}${this.#o.name}:${node}`;
  }

  /** Requests still waiting for their answer. */
  get pending(): number {
    return this.#pending.size;
  }

  async start(): Promise<void> {
    await this.#o.redis.sub.subscribe(this.#channel);
  }

  /** Stop listening; requests still waiting are refused (UNAVAILABLE). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#o.redis.sub.off('message', this.#onRaw);
    for (const [id, p] of [...this.#pending]) this.#fail(id, p, new MoimError('UNAVAILABLE', 'this node is closing'));
    await this.#o.redis.sub
      .unsubscribe(this.#channel)
      .catch((err: unknown) => this.#o.log.warn({ err, channel: this.#channel }, `${this.#label}: unsubscribe failed`));
  }

  /**
   * Publish to `node` and resolve with the number of nodes that heard it (0: nobody listens
   * there). Rejects when Redis does.
   */
  publish(node: string, message: M | RpcAnswer): Promise<number> {
    return this.#o.redis.cmd.publish(this.channelOf(node), JSON.stringify(message));
  }

  /** Fire and forget; a failure is logged with the node and the kind. */
  send(node: string, message: M | RpcAnswer): void {
    this.publish(node, message).catch((err: unknown) =>
      this.#o.log.warn({ err, node, kind: message.k }, `${this.#label}: message not sent`),
    );
  }

  /**
   * Send `build(id)` to `node` and resolve with the message answering it (same `id`), or reject
   * with UNAVAILABLE: no answer within `timeoutMs`, nobody listening there, Redis unreachable, the
   * node declared dead (`nodeDead`) or this relay closed.
   */
  request<A extends RpcMessage = RpcAnswer>(
    node: string,
    build: (id: string) => M,
    timeoutMs = this.#o.timeoutMs ?? 5000,
  ): Promise<A> {
    const id = randomUUID();
    const message = build(id);
    const peer = this.#o.peer?.(node) ?? `node ${node}`;
    return new Promise<A>((resolve, reject) => {
      if (this.#closed) {
        reject(new MoimError('UNAVAILABLE', 'this node is closing'));
        return;
      }
      const timer = setTimeout(() => {
        if (!this.#pending.delete(id)) return;
        this.#o.log.warn({ node, kind: message.k, timeoutMs }, `${this.#label}: no answer in time`);
        reject(new MoimError('UNAVAILABLE', `${peer} did not answer (${message.k}) within ${timeoutMs} ms; try again`));
      }, timeoutMs);
      const pending: Pending = { node, kind: message.k, resolve: (m) => resolve(m as A), reject, timer };
      this.#pending.set(id, pending);
      this.publish(node, message).then(
        (heard) => {
          // nobody listens on that node's channel: it is gone (its lease has not lapsed yet)
          if (heard === 0) this.#fail(id, pending, new MoimError('UNAVAILABLE', `${peer} is not reachable; try again`));
        },
        (err: unknown) =>
          this.#fail(
            id,
            pending,
            new MoimError('UNAVAILABLE', 'the cluster is unreachable for a moment; try again', { cause: err }),
          ),
      );
    });
  }

  /** `node` died: the requests waiting for it are refused now rather than at their timeout. */
  nodeDead(node: string): void {
    for (const [id, p] of [...this.#pending])
      if (p.node === node) this.#fail(id, p, new MoimError('UNAVAILABLE', `node ${node} died; try again`));
  }

  /**
   * Answer request `id` of node `to` with the fields `work` resolves to (`{ data }`, or a relay's
   * own such as `{ moved: true }`), or with its error as a client sees it (an unexpected error is
   * logged with `context` and answered INTERNAL).
   */
  async answer(to: string, id: string, work: () => Promise<object>, context: object = {}): Promise<void> {
    let res: RpcAnswer;
    try {
      res = { ...(await work()), k: 'res', id };
    } catch (err) {
      const wire = toWireError(err);
      if (!wire) this.#o.log.error({ err, ...context }, `${this.#label}: relayed request failed`);
      const e = wire ?? new MoimError('INTERNAL', 'internal error');
      res = { k: 'res', id, error: { code: e.code, message: e.message } };
    }
    this.send(to, res);
  }

  #fail(id: string, p: Pending, err: Error): void {
    if (this.#pending.get(id) !== p) return;
    this.#pending.delete(id);
    clearTimeout(p.timer);
    p.reject(err);
  }

  #onRaw = (channel: string, raw: string): void => {
    if (channel !== this.#channel) return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      this.#o.log.error({ err, channel, bytes: raw.length }, `${this.#label}: unreadable message dropped`);
      return;
    }
    const parsed = this.#o.schema.safeParse(value);
    if (!parsed.success) {
      const kind = typeof value === 'object' && value !== null ? (value as { k?: unknown }).k : undefined;
      this.#o.log.error(
        {
          channel,
          kind: typeof kind === 'string' ? kind.slice(0, 32) : undefined,
          issue: describeZodError(parsed.error),
        },
        `${this.#label}: malformed message dropped`,
      );
      return;
    }
    const message = parsed.data;
    if (this.#answers.has(message.k)) {
      const id = (message as RpcMessage & { id?: unknown }).id;
      const pending = typeof id === 'string' ? this.#pending.get(id) : undefined;
      if (!pending || typeof id !== 'string') return; // answered too late: its request timed out
      this.#pending.delete(id);
      clearTimeout(pending.timer);
      pending.resolve(message);
      return;
    }
    try {
      const done = this.#o.onMessage(message);
      if (done instanceof Promise)
        done.catch((err: unknown) =>
          this.#o.log.error({ err, kind: message.k }, `${this.#label}: handling a message failed`),
        );
    } catch (err) {
      this.#o.log.error({ err, kind: message.k }, `${this.#label}: handling a message failed`);
    }
  };
}
