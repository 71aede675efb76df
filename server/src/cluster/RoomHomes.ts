/**
 * Where each video room lives: one home node at a time, recorded in Redis as `room-home:<id>` →
 * `<node>|<epoch>`. The first node asked about a room without a live home claims it with a
 * compare-and-set script, so however many nodes ask at once, one wins and the others read the
 * winner. A home whose node is no longer alive under that epoch (dead, or fenced after a pause)
 * is replaced the same way. A node releases a room's home when its live room closes.
 */
import type { NodeRegistry } from './NodeRegistry.ts';
import type { RedisConnections } from './redis.ts';

/** KEYS home. ARGV expected ('' = none), mine: set when the current value is the expected one. */
const CLAIM = `
local cur = redis.call('GET', KEYS[1]) or ''
if cur ~= ARGV[1] then return cur end
redis.call('SET', KEYS[1], ARGV[2], 'PX', 86400000)
return ARGV[2]`;

/** KEYS home. ARGV mine: delete it if it is still ours. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export class RoomHomes {
  readonly #redis: RedisConnections;
  readonly #registry: NodeRegistry;

  constructor(redis: RedisConnections, registry: NodeRegistry) {
    this.#redis = redis;
    this.#registry = registry;
  }

  #key(roomId: string): string {
    return `${this.#redis.prefix}room-home:${roomId}`;
  }

  get #mine(): string {
    return `${this.#registry.nodeId}|${this.#registry.epoch}`;
  }

  /** The node id of the room's home, claimed for this node when it has none alive. */
  async homeOf(roomId: string): Promise<string> {
    const key = this.#key(roomId);
    for (let attempt = 0; attempt < 5; attempt++) {
      const cur = (await this.#redis.cmd.get(key)) ?? '';
      if (cur !== '') {
        const [node = '', epoch = ''] = cur.split('|');
        if (cur === this.#mine) return node;
        if (node !== this.#registry.nodeId && (await this.#registry.isAlive(node, epoch))) return node;
      }
      const won = String(await this.#redis.cmd.eval(CLAIM, 1, key, cur, this.#mine));
      if (won === this.#mine) return this.#registry.nodeId;
      // someone else changed it meanwhile: look again (it is alive, or we replace it)
    }
    throw new Error(`room ${roomId}: no home could be settled`);
  }

  /** The node id of the room's live home, if it has one (nothing is claimed). */
  async liveHome(roomId: string): Promise<string | null> {
    const cur = await this.#redis.cmd.get(this.#key(roomId));
    if (cur === null || cur === '') return null;
    const [node = '', epoch = ''] = cur.split('|');
    if (cur === this.#mine) return node;
    return (await this.#registry.isAlive(node, epoch)) ? node : null;
  }

  /** The room closed here: forget its home if it is still this node. */
  async release(roomId: string): Promise<void> {
    await this.#redis.cmd.eval(RELEASE, 1, this.#key(roomId), this.#mine);
  }
}
