/**
 * The document relay on Redis: a stream per document (`doc:<org/name>`, capped at about 1,000
 * entries, forgotten a day after its last entry) carries every committed update with the node it
 * came from; one connection per node reads the streams of all documents it serves with a blocking
 * XREAD. Each entry also names the entry before it (added atomically by a script), so a reader
 * that finds a different predecessor than the last entry it read knows it missed entries (trimmed,
 * or Redis restarted empty) and resyncs the document from the store. Awareness goes over pub/sub
 * (`aw:<org/name>`), framed with its node id; when the registry declares a node dead, the
 * documents drop that node's cursors.
 */
import type { Redis } from 'ioredis';
import { Redis as RedisClient } from 'ioredis';
import type { DocRelay, DocRelayLink, DocRelayTarget } from '../docs/DocRelay.ts';
import type { Logger } from '../logger.ts';
import type { DocRef } from '../storage/DocStore.ts';
import type { ClusterMetrics } from './clusterMetrics.ts';
import type { NodeRegistry } from './NodeRegistry.ts';
import { type RedisConnections, redisOptions, watch } from './redis.ts';

/** KEYS stream. ARGV node, update, maxlen: add the entry with its predecessor's id. */
const APPEND = `
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local prev = ''
if #last > 0 then prev = last[1][1] end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'n', ARGV[1], 'p', prev, 'u', ARGV[2])
redis.call('PEXPIRE', KEYS[1], 86400000)
return id`;

const MAX_LEN = 1000;
const BLOCK_MS = 1000;

interface Link {
  ref: DocRef;
  stream: string;
  channel: string;
  /** Id of the last entry read ('' before any: the stream was empty when opened). */
  cursor: string;
  target: DocRelayTarget | undefined;
}

export interface RedisDocRelayOptions {
  redisUrl: string;
  redis: RedisConnections;
  registry: NodeRegistry;
  log: Logger;
  metrics?: ClusterMetrics | undefined;
}

export class RedisDocRelay implements DocRelay {
  readonly #o: RedisDocRelayOptions;
  readonly #p: string;
  /** Blocking reads only (XREAD BLOCK holds the connection). */
  readonly #reader: Redis;
  /** Appends: queued while Redis is away and sent on its return, never dropped. */
  readonly #writer: Redis;
  readonly #links = new Map<string, Set<Link>>();
  readonly #byChannel = new Map<string, Set<Link>>();
  #closed = false;
  #reading: Promise<void> | undefined;

  constructor(opts: RedisDocRelayOptions) {
    this.#o = opts;
    this.#p = opts.redis.prefix;
    const durable = { ...redisOptions(opts.log, 'doc-relay'), commandTimeout: undefined, maxRetriesPerRequest: null };
    this.#reader = new RedisClient(opts.redisUrl, durable);
    this.#writer = new RedisClient(opts.redisUrl, durable);
    watch(this.#reader, 'doc-relay-reader', opts.log);
    watch(this.#writer, 'doc-relay-writer', opts.log);
    opts.redis.sub.on('messageBuffer', this.#onAwareness);
    opts.registry.on('nodeDead', (node) => {
      for (const link of this.#allLinks()) link.target?.dropNode(node);
    });
    const resyncAll = () => {
      for (const link of this.#allLinks()) link.target?.resync();
    };
    opts.registry.on('redisRestored', resyncAll);
    opts.registry.on('fenced', resyncAll);
  }

  async open(ref: DocRef): Promise<DocRelayLink> {
    const key = JSON.stringify([ref.org, ref.name]);
    const last = await this.#o.redis.cmd.xrevrange(`${this.#p}doc:${key}`, '+', '-', 'COUNT', 1);
    const link: Link = {
      ref,
      stream: `${this.#p}doc:${key}`,
      channel: `${this.#p}aw:${key}`,
      cursor: last[0]?.[0] ?? '',
      target: undefined,
    };
    let set = this.#links.get(link.stream);
    if (!set) {
      set = new Set();
      this.#links.set(link.stream, set);
      this.#byChannel.set(link.channel, set);
      await this.#o.redis.sub.subscribe(link.channel);
    }
    set.add(link);
    return {
      attach: (target) => {
        link.target = target;
        this.#read();
      },
      publishUpdate: (update) => {
        const node = this.#o.registry.nodeId;
        this.#o.metrics?.docUpdates.inc({ direction: 'out' });
        this.#writer
          .eval(APPEND, 1, link.stream, node, Buffer.from(update), MAX_LEN)
          .catch((err: unknown) =>
            this.#o.log.error({ err, org: ref.org, doc: ref.name }, 'doc relay: could not publish an update'),
          );
      },
      publishAwareness: (update) => {
        const node = Buffer.from(this.#o.registry.nodeId);
        const frame = Buffer.concat([Buffer.from([node.length]), node, update]);
        this.#o.redis.cmd
          .publish(link.channel, frame)
          .catch((err: unknown) => this.#o.log.warn({ err, doc: ref.name }, 'doc relay: awareness not relayed'));
      },
      close: () => {
        set.delete(link);
        if (set.size > 0) return;
        this.#links.delete(link.stream);
        this.#byChannel.delete(link.channel);
        this.#o.redis.sub
          .unsubscribe(link.channel)
          .catch((err: unknown) => this.#o.log.warn({ err, doc: ref.name }, 'doc relay: unsubscribe failed'));
      },
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#o.redis.sub.off('messageBuffer', this.#onAwareness);
    this.#reader.disconnect();
    await this.#reading;
    await this.#writer.quit().catch((err: unknown) => this.#o.log.warn({ err }, 'doc relay: writer quit failed'));
  }

  *#allLinks(): Iterable<Link> {
    for (const set of this.#links.values()) yield* set;
  }

  #onAwareness = (channel: Buffer, message: Buffer): void => {
    const links = this.#byChannel.get(channel.toString());
    if (!links || message.length < 1) return;
    const n = message[0]!;
    const node = message.subarray(1, 1 + n).toString();
    if (node === this.#o.registry.nodeId) return;
    const update = new Uint8Array(message.subarray(1 + n));
    for (const link of links) link.target?.applyRemoteAwareness(node, update);
  };

  /** Run the read loop if it is not running. */
  #read(): void {
    if (this.#reading || this.#closed) return;
    this.#reading = this.#loop().finally(() => {
      this.#reading = undefined;
      if (!this.#closed && this.#links.size > 0) this.#read();
    });
  }

  async #loop(): Promise<void> {
    while (!this.#closed && this.#links.size > 0) {
      // one cursor per stream: the links of one stream share it (they were opened on the same node)
      const streams: string[] = [];
      const ids: string[] = [];
      for (const [stream, set] of this.#links) {
        const first = set.values().next().value;
        if (!first?.target) continue;
        streams.push(stream);
        ids.push(first.cursor || '0-0');
      }
      if (streams.length === 0) return;
      let reply: Array<[Buffer, Array<[Buffer, Buffer[]]>]> | null;
      try {
        reply = (await this.#reader.xreadBuffer(
          'COUNT',
          100,
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          ...streams,
          ...ids,
        )) as Array<[Buffer, Array<[Buffer, Buffer[]]>]> | null;
      } catch (err) {
        if (this.#closed) return;
        this.#o.log.warn({ err }, 'doc relay: read failed; retrying');
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      for (const [streamBuf, entries] of reply ?? []) this.#deliver(streamBuf.toString(), entries);
    }
  }

  #deliver(stream: string, entries: Array<[Buffer, Buffer[]]>): void {
    const set = this.#links.get(stream);
    if (!set) return;
    for (const [idBuf, fields] of entries) {
      const id = idBuf.toString();
      const f = new Map<string, Buffer>();
      for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i]!.toString(), fields[i + 1]!);
      const node = f.get('n')?.toString();
      const prev = f.get('p')?.toString() ?? '';
      const update = f.get('u');
      for (const link of set) {
        const expected = link.cursor;
        link.cursor = id;
        if (prev !== expected) {
          this.#o.log.info({ doc: link.ref.name, expected, prev }, 'doc relay: entries missed; resync');
          this.#o.metrics?.docResyncs.inc();
          link.target?.resync();
        }
        if (node !== this.#o.registry.nodeId && update) {
          this.#o.metrics?.docUpdates.inc({ direction: 'in' });
          link.target?.applyRelayed(new Uint8Array(update));
        }
      }
    }
  }
}
