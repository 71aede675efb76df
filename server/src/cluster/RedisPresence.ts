/**
 * Presence across nodes in Redis (Redis 7.0: no per-field expiry, so a sorted set by expiry).
 *
 * Per person (`pk` = personKey): `pres:dev:<pk>` a hash of devices (`<node>|<connection>` →
 * idle, meeting, lastActive), `pres:person:<pk>` the person's record (org, sub, name, teams,
 * site, status, busy), `pres:pub:<pk>` what was last published and at which version; per org
 * `pres:org:<org>` the people with a device somewhere; `pres:exp` every device by lease expiry.
 *
 * A node reports its devices of a person in one script (which also bumps the person's version and
 * returns the merged record); it aggregates and publishes only if its version is the newest one
 * published and the published view changed — so concurrent reports from two nodes end with the
 * latest state, published once. Each node renews its devices' leases with its heartbeat; the
 * registry's leader sweeps devices whose lease lapsed (a dead or paused node) and publishes the
 * people that changed. After Redis lost everything (a restart), or after this node was fenced,
 * every node reports all its people again.
 */
import type { PersonPresence } from '@moim/protocol';
import { personKey } from '../auth/Principal.ts';
import type { Logger } from '../logger.ts';
import type { PresenceBus } from '../presence/PresenceBus.ts';
import { presenceTargets } from '../presence/PresenceBus.ts';
import {
  type DeviceState,
  type LocalPerson,
  type PersonFields,
  type PresenceDirectory,
  type PresenceQueryFilter,
  presenceState,
  publishedKey,
} from '../presence/PresenceDirectory.ts';
import type { PresenceStore } from '../storage/PresenceStore.ts';
import type { ClusterMetrics } from './clusterMetrics.ts';
import type { NodeRegistry } from './NodeRegistry.ts';
import type { RedisConnections } from './redis.ts';

/** Shared by REPORT and SWEEP: the person's devices and record, after the change, with a new version. */
const MERGED = `
if redis.call('HLEN', KEYS[1]) > 0 then
  redis.call('SADD', KEYS[4], ARGV[1])
  redis.call('PERSIST', KEYS[2])
else
  -- gone everywhere: the record (status, busy) is kept a day for a return, then forgotten
  redis.call('SREM', KEYS[4], ARGV[1])
  redis.call('PEXPIRE', KEYS[2], 86400000)
end
local v = redis.call('HINCRBY', KEYS[2], 'v', 1)
return {v, redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])}`;

/**
 * KEYS dev, person, exp, org. ARGV pk, node, expiry, org, sub, name, teamsJson, site, status, busy,
 * n, then n × (field, value): this node's devices of the person (all of them).
 */
const REPORT = `
local prefix = ARGV[2] .. '|'
local keep = {}
local n = tonumber(ARGV[11])
for i = 0, n - 1 do keep[ARGV[12 + 2 * i]] = ARGV[13 + 2 * i] end
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(f, 1, #prefix) == prefix and keep[f] == nil then
    redis.call('HDEL', KEYS[1], f)
    redis.call('ZREM', KEYS[3], ARGV[1] .. '\\n' .. f)
  end
end
for f, value in pairs(keep) do
  redis.call('HSET', KEYS[1], f, value)
  redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1] .. '\\n' .. f)
end
redis.call('HSET', KEYS[2], 'org', ARGV[4], 'sub', ARGV[5], 'name', ARGV[6], 'teams', ARGV[7])
redis.call('HSETNX', KEYS[2], 'site', ARGV[8])
redis.call('HSETNX', KEYS[2], 'status', ARGV[9])
redis.call('HSETNX', KEYS[2], 'busy', ARGV[10])
${MERGED}`;

/** KEYS dev, person, exp, org. ARGV pk, now, then fields: remove those whose lease is still lapsed. */
const SWEEP = `
for i = 3, #ARGV do
  local member = ARGV[1] .. '\\n' .. ARGV[i]
  local score = redis.call('ZSCORE', KEYS[3], member)
  if score and tonumber(score) <= tonumber(ARGV[2]) then
    redis.call('ZREM', KEYS[3], member)
    redis.call('HDEL', KEYS[1], ARGV[i])
  elseif not score then
    redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
${MERGED}`;

/** KEYS pub. ARGV version, key, site → {changed, previous site}: publish only the newest, and only a change. */
const CLAIM_PUBLISH = `
local last = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if tonumber(ARGV[1]) <= last then return {0, false} end
local prev = redis.call('HGET', KEYS[1], 'k')
local prevSite = redis.call('HGET', KEYS[1], 'site')
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'k', ARGV[2], 'site', ARGV[3])
redis.call('PEXPIRE', KEYS[1], 86400000)
if prev == ARGV[2] then return {0, prevSite} end
return {1, prevSite}`;

/** KEYS exp. ARGV expiry, members…: renew the leases that still exist; returns the missing ones. */
const RENEW = `
local missing = {}
for i = 2, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then redis.call('ZADD', KEYS[1], ARGV[1], ARGV[i])
  else table.insert(missing, ARGV[i]) end
end
return missing`;

export interface RedisPresenceOptions {
  redis: RedisConnections;
  registry: NodeRegistry;
  bus: PresenceBus;
  store: PresenceStore;
  log: Logger;
  /** Every local person as the service sees them now (to report again after Redis lost them). */
  localPeople: () => Iterable<LocalPerson>;
  /** A device whose lease was not renewed for this long is gone. @default 5000 */
  leaseMs?: number | undefined;
  /** Renewal and sweep period. @default 1500 */
  intervalMs?: number | undefined;
  metrics?: ClusterMetrics | undefined;
}

interface Merged {
  version: number;
  devices: Map<string, DeviceState>;
  record: Map<string, string>;
}

export class RedisPresence implements PresenceDirectory {
  readonly #o: RedisPresenceOptions;
  readonly #leaseMs: number;
  readonly #p: string;
  readonly #timer: NodeJS.Timeout;
  #ticking = false;

  constructor(opts: RedisPresenceOptions) {
    this.#o = opts;
    this.#leaseMs = opts.leaseMs ?? 5000;
    this.#p = `${opts.redis.prefix}pres:`;
    this.#timer = setInterval(() => void this.#tick(), opts.intervalMs ?? 1500);
    this.#timer.unref();
    const reassert = (why: string) => () => void this.#reportAll(why);
    opts.registry.on('redisRestored', reassert('redis lost its data'));
    opts.registry.on('fenced', reassert('this node was fenced'));
  }

  async report(person: LocalPerson): Promise<PersonPresence> {
    const pk = personKey(person.org, person.sub);
    const node = this.#o.registry.nodeId;
    const args: (string | number)[] = [
      pk,
      node,
      Date.now() + this.#leaseMs,
      person.org,
      person.sub,
      person.name,
      JSON.stringify(person.teams),
      person.site,
      person.status ?? '',
      person.busy ? '1' : '0',
      person.devices.size,
    ];
    for (const [id, d] of person.devices) args.push(`${node}|${id}`, JSON.stringify(d));
    this.#o.metrics?.presenceReports.inc();
    const raw = await this.#o.redis.cmd.eval(REPORT, 4, ...this.#keys(pk, person.org), ...args);
    return this.#publishMerged(pk, parseMerged(raw));
  }

  async setFields(org: string, sub: string, fields: PersonFields): Promise<void> {
    const pk = personKey(org, sub);
    const { cmd } = this.#o.redis;
    await cmd.hset(
      `${this.#p}person:${pk}`,
      'site',
      fields.site,
      'status',
      fields.status ?? '',
      'busy',
      fields.busy ? '1' : '0',
    );
    // publish through a report-less merge: the same script with no device change is a SWEEP of nothing
    const raw = await cmd.eval(SWEEP, 4, ...this.#keys(pk, org), pk, Date.now());
    await this.#publishMerged(pk, parseMerged(raw));
  }

  async query(q: PresenceQueryFilter): Promise<PersonPresence[]> {
    const pks = await this.#o.redis.cmd.smembers(`${this.#p}org:${q.org}`);
    const views = await this.#views(pks);
    return views
      .filter(
        (v) =>
          v.state !== 'offline' &&
          (q.site === undefined || v.site === q.site) &&
          (q.team === undefined || v.teams.includes(q.team)) &&
          (!q.states || q.states.includes(v.state)),
      )
      .sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || a.sub.localeCompare(b.sub))
      .slice(0, q.limit);
  }

  async online(org: string, subs: readonly string[]): Promise<PersonPresence[]> {
    const views = await this.#views(subs.map((sub) => personKey(org, sub)));
    return views.filter((v) => v.state !== 'offline');
  }

  async meetingsOf(org: string, sub: string): Promise<Set<string>> {
    const devices = await this.#o.redis.cmd.hvals(`${this.#p}dev:${personKey(org, sub)}`);
    const rooms = new Set<string>();
    for (const raw of devices) {
      const device = JSON.parse(raw) as Partial<DeviceState>;
      // every room of the connection (a node of an older version reports its one `meeting`)
      if (Array.isArray(device.rooms)) for (const r of device.rooms) if (typeof r === 'string') rooms.add(r);
      if (typeof device.meeting === 'string') rooms.add(device.meeting);
    }
    return rooms;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
  }

  #keys(pk: string, org: string): [string, string, string, string] {
    return [`${this.#p}dev:${pk}`, `${this.#p}person:${pk}`, `${this.#p}exp`, `${this.#p}org:${org}`];
  }

  /** Views of people from their stored devices and records (one round trip). */
  async #views(pks: readonly string[]): Promise<PersonPresence[]> {
    if (pks.length === 0) return [];
    const pipe = this.#o.redis.cmd.pipeline();
    for (const pk of pks) pipe.hgetall(`${this.#p}dev:${pk}`).hgetall(`${this.#p}person:${pk}`);
    const results = (await pipe.exec()) ?? [];
    const out: PersonPresence[] = [];
    for (let i = 0; i < pks.length; i++) {
      const [devErr, dev] = results[2 * i] ?? [];
      const [recErr, rec] = results[2 * i + 1] ?? [];
      if (devErr || recErr) throw devErr ?? recErr;
      const record = new Map(Object.entries((rec ?? {}) as Record<string, string>));
      if (!record.has('sub')) continue;
      out.push(toView({ version: 0, devices: parseDevices(dev as Record<string, string>), record }));
    }
    return out;
  }

  /** Publish the merged view if this version is the newest and the view changed; the view either way. */
  async #publishMerged(pk: string, merged: Merged): Promise<PersonPresence> {
    const view = toView(merged);
    const claim = (await this.#o.redis.cmd.eval(
      CLAIM_PUBLISH,
      1,
      `${this.#p}pub:${pk}`,
      merged.version,
      publishedKey(view),
      view.site ?? '',
    )) as [number, string | null];
    if (Number(claim[0]) === 1) {
      const org = merged.record.get('org') ?? '';
      const rooms = presenceTargets(org, view.sub, view.site, view.teams, claim[1] || null);
      try {
        this.#o.bus.publish(rooms, view);
      } catch (err) {
        this.#o.log.error({ err, sub: view.sub }, 'presence: publish failed');
      }
    }
    return view;
  }

  async #tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      await this.#renew();
      if (this.#o.registry.leader) await this.#sweep();
    } catch (err) {
      this.#o.log.warn({ err }, 'presence: lease renewal or sweep failed (Redis away?)');
    } finally {
      this.#ticking = false;
    }
  }

  /** Renew this node's device leases; report again the people whose leases vanished. */
  async #renew(): Promise<void> {
    const node = this.#o.registry.nodeId;
    const members: string[] = [];
    const byMember = new Map<string, LocalPerson>();
    for (const person of this.#o.localPeople()) {
      const pk = personKey(person.org, person.sub);
      for (const id of person.devices.keys()) {
        const m = `${pk}\n${node}|${id}`;
        members.push(m);
        byMember.set(m, person);
      }
    }
    if (members.length === 0) return;
    const missing = (await this.#o.redis.cmd.eval(
      RENEW,
      1,
      `${this.#p}exp`,
      Date.now() + this.#leaseMs,
      ...members,
    )) as string[];
    const again = new Set(missing.map((m) => byMember.get(m)).filter((p): p is LocalPerson => p !== undefined));
    for (const person of again) await this.report(person);
  }

  /** The leader removes lapsed devices and publishes the people that changed. */
  async #sweep(): Promise<void> {
    const { cmd } = this.#o.redis;
    const now = Date.now();
    const lapsed = await cmd.zrangebyscore(`${this.#p}exp`, '-inf', now, 'LIMIT', 0, 1000);
    const byPerson = new Map<string, string[]>();
    for (const member of lapsed) {
      const cut = member.indexOf('\n');
      const pk = member.slice(0, cut);
      const list = byPerson.get(pk) ?? [];
      list.push(member.slice(cut + 1));
      byPerson.set(pk, list);
    }
    this.#o.metrics?.presenceSwept.inc(lapsed.length);
    for (const [pk, fields] of byPerson) {
      const [org] = JSON.parse(pk) as [string, string];
      const merged = parseMerged(await cmd.eval(SWEEP, 4, ...this.#keys(pk, org), pk, now, ...fields));
      const view = await this.#publishMerged(pk, merged);
      if (view.state === 'offline') await this.#saveLastSeen(org, view);
    }
  }

  async #saveLastSeen(org: string, view: PersonPresence): Promise<void> {
    try {
      await this.#o.store.save({
        sub: view.sub,
        org,
        name: view.name ?? view.sub,
        site: view.site ?? '',
        teams: view.teams,
        status: view.status,
        busy: view.busy,
        lastSeen: Date.now(),
      });
    } catch (err) {
      this.#o.log.warn({ err, sub: view.sub }, 'presence: could not store lastSeen');
    }
  }

  async #reportAll(why: string): Promise<void> {
    this.#o.log.info({ why }, 'presence: reporting every local device again');
    for (const person of this.#o.localPeople()) {
      try {
        await this.report(person);
      } catch (err) {
        this.#o.log.warn({ err, sub: person.sub }, 'presence: could not report again');
      }
    }
  }
}

function parseMerged(raw: unknown): Merged {
  const [version, devFlat, recFlat] = raw as [number, string[], string[]];
  return {
    version: Number(version),
    devices: parseDevices(pairs(devFlat)),
    record: new Map(Object.entries(pairs(recFlat))),
  };
}

function pairs(flat: string[]): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

function parseDevices(hash: Record<string, string> | null | undefined): Map<string, DeviceState> {
  const out = new Map<string, DeviceState>();
  for (const [field, value] of Object.entries(hash ?? {})) out.set(field, JSON.parse(value) as DeviceState);
  return out;
}

function toView(m: Merged): PersonPresence {
  const r = m.record;
  const busy = r.get('busy') === '1';
  let lastSeen = 0;
  for (const d of m.devices.values()) lastSeen = Math.max(lastSeen, d.lastActive);
  const status = r.get('status') ?? '';
  return {
    sub: r.get('sub') ?? '',
    name: r.get('name') ?? null,
    state: presenceState(m.devices.values(), busy),
    site: r.get('site') ?? null,
    teams: JSON.parse(r.get('teams') ?? '[]') as string[],
    status: status === '' ? null : status,
    busy,
    devices: m.devices.size,
    lastSeen: lastSeen || null,
  };
}
