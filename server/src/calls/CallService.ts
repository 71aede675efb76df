/**
 * Owns: calls that ring — each call's state machine (ringing → accepted | declined | cancelled |
 * missed | busy | failed; accepted → ended), its one ring timer, the per-person bounds (calls at
 * once, callees per call, starts per minute), and what a call leaves behind (history entries,
 * "missed call" in the DM). Elsewhere: the wire contract protocol/src/calls.ts, the requests
 * gateway/callHandlers.ts, the fan-out CallBus.ts, the video room MediaService (through
 * `CallRooms`), the history CallHistory.ts.
 *
 * Every transition happens synchronously inside one request or timer callback (the checks and
 * the change with no `await` between them), so on one node a race — accept against the timer,
 * two devices accepting, two people calling each other — has exactly one winner. The calls live
 * in this node's memory (`CallRegistry`): in a cluster, a call is served by the node of the
 * caller's `call:start` (see the README's "Calls").
 *
 * A meeting invitation (`call:invite`) is a call whose `meeting` names a running meeting room: it
 * rings like a call, but accepting gives the invitee access to that room (`#grants`, or the
 * cluster's directory) instead of making a room, and the invitation ends once nobody rings; it
 * never ends, closes or withdraws anyone from the meeting (its `roomId` stays null).
 */
import { randomUUID } from 'node:crypto';
import {
  CALL_ROOM_PREFIX,
  type CallHistoryEntry,
  type CallInfo,
  type CallMeeting,
  type CallPartyState,
  type CallState,
  MoimError,
  ROOM_GRANTS,
  type RoomGrant,
  SYSTEM_SUB,
  TIER_PROFILES,
  type Tier,
} from '@moim/protocol';
import { type Principal, personKey } from '../auth/Principal.ts';
import { KeyedRateLimiter } from '../lib/RateLimiter.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../observability/Metrics.ts';
import type { CallBus } from './CallBus.ts';
import { type CallDirectory, CallElsewhereError } from './CallDirectory.ts';
import type { CallHistory } from './CallHistory.ts';
import { registerCallMetrics } from './callMetrics.ts';

/** A call's video room (MediaService): made with the caller's principal, ended with the call. */
export interface CallRooms {
  /** Make the room `roomId` (`call-<call id>`). */
  create(caller: Principal, tier: Tier, roomId: string): Promise<void>;
  /** The call ended: its room record is marked closed and its live room closes (`room:closed`). */
  end(org: string, roomId: string): Promise<void>;
  /** A person left the call that goes on (hung up, dropped): their peers leave its room (`room:removed`). */
  removePerson(org: string, roomId: string, sub: string): Promise<void>;
  /** A meeting room of `org` (undefined: none there), for invitations. */
  meeting(org: string, roomId: string): Promise<{ name: string | null; tier: Tier; closed: boolean } | undefined>;
  /** Whether a device of the person is in the live room now (any node). */
  isIn(org: string, sub: string, roomId: string): Promise<boolean>;
}

/** How long an accepted invitation lets its invitee into the meeting's room (join again after a reload). */
export const MEETING_GRANT_MS = 12 * 3_600_000;
/** Invitation grants kept on one node before expired ones are swept. */
const MAX_LOCAL_GRANTS = 10_000;
/**
 * Cluster: how long after a leave an invitation whose inviter still seemed to be in the meeting
 * is checked once more (other nodes' presence and relays learn of a leave a little later).
 */
export const MEETING_RECHECK_MS = 1500;

/** Why a ringing invitation was cancelled by the server (CallInfo.reason; the web app shows ko/en text for each). */
export const INVITATION_END_REASONS = {
  /** The inviter left the meeting (on every device, on every node). */
  inviterLeft: 'inviter-left',
  /** The meeting's room closed. */
  meetingClosed: 'meeting-closed',
} as const;

/** What a call's people may do in its room, whatever their token's room grants say. */
const CALL_ROOM_GRANTS: readonly RoomGrant[] = ['join', 'publish', 'subscribe'];

/** Names and do-not-disturb of people (presence). */
export interface CallPeople {
  lookup(org: string, subs: readonly string[]): Promise<Map<string, { name: string | null; busy: boolean }>>;
}

/** "Missed call" (or "missed invitation" to `meeting`) in the DM of caller and callee (chat). */
export interface CallNotices {
  missed(
    org: string,
    caller: { sub: string; site: string; name: string },
    callee: string,
    at: number,
    meeting?: CallMeeting,
  ): Promise<void>;
}

export interface CallLimits {
  /** How long a callee's devices ring. */
  ringTimeoutMs: number;
  /** People one call may ring (added ones count). */
  maxCallees: number;
  /** Calls one person takes part in at once (as caller, or having answered). */
  maxCallsPerPerson: number;
  /** `call:start` per person per minute. */
  startsPerMinute: number;
  /**
   * How long an invitation waits for its inviter to join again when the meeting's room closed
   * under them (WORKER_DIED: clients join again at once) before it is checked. @default 10 s
   */
  rejoinGraceMs?: number | undefined;
}

export interface CallServiceOptions {
  bus: CallBus;
  rooms: CallRooms;
  people: CallPeople;
  notices: CallNotices;
  history: CallHistory;
  log: Logger;
  limits: CallLimits;
  /** Cluster mode: what other nodes must know of this node's calls (unset: one node). */
  directory?: CallDirectory | undefined;
  metrics?: Metrics | undefined;
  now?: () => number;
}

interface Party {
  sub: string;
  name: string | null;
  state: CallPartyState;
  at: number;
  /** While ringing: when this party's ring runs out. */
  until: number;
  dismissedOn: Set<string>;
  answeredOn: string | null;
  everJoined: boolean;
}

interface Call {
  id: string;
  org: string;
  caller: Party;
  callerSite: string;
  callerPrincipal: Principal;
  callees: Map<string, Party>;
  state: CallState;
  reason: string | null;
  group: boolean;
  video: boolean;
  tier: Tier;
  roomId: string | null;
  room: Promise<string> | undefined;
  /** A meeting invitation: the meeting it rings into. */
  meeting: CallMeeting | null;
  startedAt: number;
  acceptedAt: number | null;
  endedAt: number | null;
  version: number;
  timer: NodeJS.Timeout | undefined;
}

const ACTIVE: ReadonlySet<CallState> = new Set(['ringing', 'accepted']);

/** Call ids by a key (a person, a meeting room): `id` added under `key`. */
function index(ids: Map<string, Set<string>>, key: string, id: string): void {
  let set = ids.get(key);
  if (!set) {
    set = new Set();
    ids.set(key, set);
  }
  set.add(id);
}

/** `id` removed from under `key`; an empty key is dropped. */
function unindex(ids: Map<string, Set<string>>, key: string, id: string): void {
  const set = ids.get(key);
  if (!set) return;
  set.delete(id);
  if (set.size === 0) ids.delete(key);
}

/** Finished calls are remembered this long, so a late accept hears CALL_NOT_RINGING rather than NOT_FOUND. */
const REMEMBER_FINISHED_MS = 10 * 60_000;

export class CallService {
  readonly #o: CallServiceOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #calls = new Map<string, Call>();
  /** personKey → ids of the active calls the person is a party of. */
  readonly #byPerson = new Map<string, Set<string>>();
  readonly #starts: KeyedRateLimiter;
  /** Finished calls in finishing order (bounded by REMEMBER_FINISHED_MS). */
  readonly #finished: Array<{ id: string; at: number }> = [];
  readonly #pending = new Set<Promise<unknown>>();
  /** Parties found busy by their look-up: do-not-disturb, or in a call held by another node (checked right after it). */
  readonly #dnd = new WeakSet<Party>();
  /** Calls being placed (their pair claim under way): an accept of one waits for it. */
  readonly #starting = new Map<string, Promise<void>>();
  #closed = false;
  readonly #finishedCount: ReturnType<typeof registerCallMetrics> | undefined;
  /** Accepted invitations on this node: `personKey\nroomId` → until when the person may enter the room. */
  readonly #grants = new Map<string, number>();
  /** Active invitations held here by the meeting room they ring into: roomId → call ids. */
  readonly #invitesByRoom = new Map<string, Set<string>>();
  /** Second checks of invitations after a leave (cluster), cleared on close. */
  readonly #rechecks = new Set<NodeJS.Timeout>();

  constructor(opts: CallServiceOptions) {
    this.#o = opts;
    this.#log = opts.log;
    this.#now = opts.now ?? Date.now;
    const perSec = opts.limits.startsPerMinute / 60;
    this.#starts = new KeyedRateLimiter(perSec, opts.limits.startsPerMinute);
    this.#finishedCount = opts.metrics && registerCallMetrics(opts.metrics, () => this.activeCalls);
  }

  /** Where finished calls are written (the `/calls/history` routes read it). */
  get history(): CallHistory {
    return this.#o.history;
  }

  /** Whether this node holds the call (or is placing it). */
  holds(callId: string): boolean {
    return this.#calls.has(callId) || this.#starting.has(callId);
  }

  get activeCalls(): number {
    let n = 0;
    for (const c of this.#calls.values()) if (ACTIVE.has(c.state)) n++;
    return n;
  }

  // ── requests ───────────────────────────────────────────────────────────────

  async start(me: Principal, deviceId: string, data: { callees: string[]; video: boolean }): Promise<CallInfo> {
    this.#assertOpen();
    const org = me.token.org;
    const callees = [...new Set(data.callees)];
    if (callees.includes(me.sub)) throw new MoimError('INVALID_PAYLOAD', 'callees: you cannot call yourself');
    if (callees.includes(SYSTEM_SUB)) throw new MoimError('INVALID_PAYLOAD', `callees: ${SYSTEM_SUB} takes no calls`);
    const group = callees.length > 1;
    const tier: Tier = group ? 'standard' : 'personal';
    this.#checkCallees(tier, callees.length);
    me.requireCreateRoom(tier);
    if (!this.#starts.take(me.key))
      throw new MoimError('RATE_LIMITED', `at most ${this.#o.limits.startsPerMinute} calls per minute`);

    // two people calling each other: the second call answers the first one, ringing for this person
    if (!group) {
      const mutual = this.#ringingFrom(org, callees[0]!, me.sub);
      if (mutual) {
        this.#log.info({ call: mutual.id, org, sub: me.sub }, 'call: called back while ringing; answered instead');
        return this.accept(me, deviceId, { callId: mutual.id });
      }
    }
    this.#checkCallsOf(me);

    const id = randomUUID();
    const directory = this.#o.directory;
    let placed = () => {};
    if (directory && !group) {
      // across nodes: the callee may be calling me from another node at this very moment
      this.#starting.set(
        id,
        new Promise<void>((resolve) => {
          placed = resolve;
        }),
      );
      let theirs: string | null;
      try {
        theirs = await directory.claimPair(me.token.org, me.sub, callees[0]!, id);
      } catch (err) {
        this.#starting.delete(id);
        placed();
        throw err;
      }
      if (theirs !== null) {
        this.#starting.delete(id);
        placed();
        this.#log.info({ call: theirs, org, sub: me.sub }, 'call: called back while ringing; answered instead');
        if (!this.holds(theirs)) throw new CallElsewhereError(theirs);
        return this.accept(me, deviceId, { callId: theirs });
      }
    }

    const call = this.#ringingCall(me, id, callees, { group, video: data.video, tier, meeting: null });
    call.caller.answeredOn = deviceId;
    this.#register(call);
    this.#starting.delete(id);
    placed();
    directory?.placed(org, id, [me.sub, ...callees]);
    directory?.setInCall(org, me.sub, id, true);
    this.#log.info({ call: call.id, org, caller: me.sub, callees, group }, 'call: ringing');

    await this.#ringOut(call, callees);
    return this.view(call, me.sub);
  }

  /**
   * Ring people into the running meeting `roomId` (a meeting invitation). The inviter must be in
   * the room now; the room must be a live meeting of their org. See protocol/src/calls.ts.
   */
  async invite(me: Principal, _deviceId: string, data: { roomId: string; callees: string[] }): Promise<CallInfo> {
    this.#assertOpen();
    const org = me.token.org;
    const { roomId } = data;
    const callees = [...new Set(data.callees)];
    if (callees.includes(me.sub)) throw new MoimError('INVALID_PAYLOAD', 'callees: you cannot invite yourself');
    if (callees.includes(SYSTEM_SUB)) throw new MoimError('INVALID_PAYLOAD', `callees: ${SYSTEM_SUB} takes no calls`);
    if (roomId.startsWith(CALL_ROOM_PREFIX))
      throw new MoimError('INVALID_PAYLOAD', "roomId: a call's room; ring people into a call with call:add");
    if (!this.#starts.take(me.key))
      throw new MoimError('RATE_LIMITED', `at most ${this.#o.limits.startsPerMinute} calls per minute`);
    if (this.#invitingOf(org, me.sub) >= this.#o.limits.maxCallsPerPerson)
      throw new MoimError(
        'TOO_MANY_CALLS',
        `at most ${this.#o.limits.maxCallsPerPerson} invitations ringing at once; wait for one to end`,
      );
    // the room record is looked up in the inviter's org: another org's room is not found
    const room = await this.#o.rooms.meeting(org, roomId);
    if (!room) throw new MoimError('NOT_FOUND', 'no such meeting');
    if (room.closed) throw new MoimError('ROOM_CLOSED', 'this meeting was closed');
    this.#checkCallees(room.tier, callees.length);
    if (!(await this.#o.rooms.isIn(org, me.sub, roomId)))
      throw new MoimError('NOT_IN_ROOM', 'join the meeting first: only people in it invite others');
    this.#assertOpen();

    const call = this.#ringingCall(me, randomUUID(), callees, {
      group: callees.length > 1,
      video: true,
      tier: room.tier,
      meeting: { roomId, name: room.name },
    });
    this.#register(call);
    this.#o.directory?.placed(org, call.id, [me.sub, ...callees]);
    this.#log.info({ call: call.id, org, caller: me.sub, callees, room: roomId }, 'call: invitation ringing');

    await this.#ringOut(call, callees);
    return this.view(call, me.sub);
  }

  /** Callee `p` answered on `deviceId`: joined; a call still ringing is accepted now (true). */
  #answer(call: Call, p: Party, deviceId: string): boolean {
    this.#setParty(p, 'joined');
    p.answeredOn = deviceId;
    p.everJoined = true;
    if (call.state !== 'ringing') return false;
    call.state = 'accepted';
    call.acceptedAt = this.#now();
    return true;
  }

  /**
   * An invitee answers: they may enter the meeting's room from now on; the invitation is over
   * for them (and for everyone once nobody rings). Nothing of the meeting changes.
   */
  async #acceptInvitation(
    me: Principal,
    deviceId: string,
    call: Call,
    meeting: CallMeeting,
    p: Party,
  ): Promise<CallInfo> {
    // the meeting may have closed since the invitation rang: no grant into a closed room
    const room = await this.#o.rooms.meeting(call.org, meeting.roomId);
    if (p.state !== 'ringing' || !ACTIVE.has(call.state)) throw notRinging(call, p);
    if (!room || room.closed) {
      call.reason = INVITATION_END_REASONS.meetingClosed;
      this.#finish(call, 'cancelled');
      throw new MoimError('ROOM_CLOSED', 'this meeting was closed; the invitation ended');
    }
    this.#answer(call, p, deviceId);
    this.#grantLocally(call.org, meeting.roomId, me.sub);
    this.#log.info({ call: call.id, org: call.org, sub: me.sub, room: meeting.roomId }, 'call: invitation accepted');
    this.#settle(call);
    if (ACTIVE.has(call.state)) {
      this.#arm(call);
      this.#emit(call);
    }
    // cluster: the room may be served by another node, which asks the directory
    await this.#o.directory?.grantRoom(call.org, meeting.roomId, me.sub, MEETING_GRANT_MS);
    return this.view(call, me.sub);
  }

  async accept(me: Principal, deviceId: string, { callId }: { callId: string }): Promise<CallInfo> {
    this.#assertOpen();
    await this.#starting.get(callId);
    const call = this.#callOf(me, callId);
    const p = call.callees.get(me.sub);
    if (!p) throw new MoimError('FORBIDDEN', 'only a callee answers a call');
    if (p.state !== 'ringing' || !ACTIVE.has(call.state)) throw notRinging(call, p);
    if (call.meeting) return this.#acceptInvitation(me, deviceId, call, call.meeting, p);
    this.#checkCallsOf(me);
    if (this.#answer(call, p, deviceId) && !call.group)
      this.#o.directory?.releasePair(call.org, call.caller.sub, me.sub, call.id);
    this.#o.directory?.setInCall(call.org, me.sub, call.id, true);
    this.#arm(call);
    this.#log.info({ call: call.id, org: call.org, sub: me.sub }, 'call: accepted');
    // the other devices stop ringing at once; the room follows in the next update
    this.#emit(call);
    if (!call.room) {
      const roomId = `${CALL_ROOM_PREFIX}${call.id}`;
      call.room = this.#o.rooms.create(call.callerPrincipal, call.tier, roomId).then(() => roomId);
      call.room.then(
        () => {
          call.roomId = roomId;
          if (ACTIVE.has(call.state)) this.#emit(call);
          else this.#endRoom(call); // the call ended while its room was being made
        },
        (err: unknown) => {
          this.#log.error({ err, call: call.id, org: call.org }, 'call: its video room could not be made');
          if (!ACTIVE.has(call.state)) return;
          call.reason = err instanceof MoimError ? `room-failed: ${err.code}` : 'room-failed';
          this.#finish(call, 'failed');
        },
      );
    }
    try {
      await call.room;
    } catch {
      // logged and turned into the call's `failed` state above; the answer is that state
    }
    return this.view(call, me.sub);
  }

  async decline(me: Principal, _deviceId: string, { callId }: { callId: string }): Promise<CallInfo> {
    const call = this.#callOf(me, callId);
    const p = call.callees.get(me.sub);
    if (!p) throw new MoimError('FORBIDDEN', 'only a callee declines a call');
    if (p.state !== 'ringing' || !ACTIVE.has(call.state)) throw notRinging(call, p);
    this.#setParty(p, 'declined');
    this.#log.info({ call: call.id, org: call.org, sub: me.sub }, 'call: declined');
    this.#settle(call);
    if (ACTIVE.has(call.state)) this.#emit(call);
    return this.view(call, me.sub);
  }

  async dismiss(me: Principal, deviceId: string, { callId }: { callId: string }): Promise<CallInfo> {
    const call = this.#callOf(me, callId);
    const p = call.callees.get(me.sub);
    if (!p) throw new MoimError('FORBIDDEN', 'only a callee dismisses a call');
    if (p.dismissedOn.size < 64) p.dismissedOn.add(deviceId);
    call.version++;
    // only this person's devices need to know
    this.#o.bus.toPerson(call.org, me.sub, this.view(call, me.sub));
    return this.view(call, me.sub);
  }

  async cancel(me: Principal, { callId }: { callId: string }): Promise<CallInfo> {
    const call = this.#callOf(me, callId);
    if (call.caller.sub !== me.sub) throw new MoimError('FORBIDDEN', 'only the caller cancels a call');
    // an invitation some already accepted still rings for the others: cancelling stops those
    const stillRings = call.meeting !== null && call.state === 'accepted';
    if (call.state !== 'ringing' && !stillRings) throw notRinging(call, call.caller);
    call.reason = 'cancelled-by-caller';
    this.#finish(call, 'cancelled');
    return this.view(call, me.sub);
  }

  async hangup(me: Principal, { callId }: { callId: string }): Promise<CallInfo> {
    const call = this.#callOf(me, callId);
    if (!ACTIVE.has(call.state)) return this.view(call, me.sub);
    if (call.caller.sub === me.sub && (call.state === 'ringing' || call.meeting)) return this.cancel(me, { callId });
    const p = call.caller.sub === me.sub ? call.caller : call.callees.get(me.sub);
    if (!p) throw new MoimError('NOT_FOUND', 'no such call');
    if (p.state === 'ringing') return this.decline(me, '', { callId });
    if (p.state !== 'joined') return this.view(call, me.sub);
    this.#leave(call, p);
    return this.view(call, me.sub);
  }

  async add(me: Principal, { callId, callees }: { callId: string; callees: string[] }): Promise<CallInfo> {
    const call = this.#callOf(me, callId);
    if (call.meeting) throw new MoimError('FORBIDDEN', 'an invitation takes nobody more: invite them with call:invite');
    const mine = call.caller.sub === me.sub ? call.caller : call.callees.get(me.sub);
    if (mine?.state !== 'joined') throw new MoimError('FORBIDDEN', 'only someone in the call adds people');
    if (!ACTIVE.has(call.state)) throw notRinging(call, mine);
    const fresh = [...new Set(callees)].filter(
      (s) => s !== call.caller.sub && s !== SYSTEM_SUB && !isOn(call.callees.get(s)),
    );
    const after = new Set([...call.callees.keys(), ...fresh]).size;
    this.#checkCallees(call.tier, after);
    const now = this.#now();
    const until = now + this.#o.limits.ringTimeoutMs;
    for (const sub of fresh) {
      const known = call.callees.get(sub);
      const state: CallPartyState = this.#inCall(call.org, sub) ? 'busy' : 'ringing';
      if (known) {
        this.#setParty(known, state);
        known.until = until;
        known.dismissedOn.clear();
      } else call.callees.set(sub, party(sub, null, state, now, until));
      index(this.#byPerson, personKey(call.org, sub), call.id);
    }
    if (!call.group && call.state === 'ringing')
      this.#o.directory?.releasePair(call.org, call.caller.sub, [...call.callees.keys()][0]!, call.id);
    call.group = true;
    this.#o.directory?.placed(call.org, call.id, fresh);
    this.#log.info({ call: call.id, org: call.org, by: me.sub, added: fresh }, 'call: people added');
    await this.#askWhoIsBusy(call, fresh);
    this.#busyStopRinging(fresh.map((sub) => call.callees.get(sub)));
    this.#arm(call);
    this.#emit(call);
    return this.view(call, me.sub);
  }

  /**
   * The grants `me` has in the call room `roomId` (MediaService's RoomAccess), whatever their
   * token says: join, publish and subscribe for the people in the call — its caller and the
   * callees who answered (added ones too), of the call's organisation, until they hang up or the
   * call ends — and none for anyone else. Undefined for a room that is not a call's. A call held
   * by another node is judged by its latest snapshot.
   */
  async roomAccess(me: Principal, roomId: string): Promise<readonly RoomGrant[] | undefined> {
    if (!roomId.startsWith(CALL_ROOM_PREFIX)) return this.#meetingAccess(me, roomId);
    const callId = roomId.slice(CALL_ROOM_PREFIX.length);
    const call = this.#calls.get(callId);
    if (call) {
      // another org's room is not found there, whatever the token says (MediaService looks it up by org)
      if (call.org !== me.token.org) return undefined;
      const p = call.caller.sub === me.sub ? call.caller : call.callees.get(me.sub);
      return ACTIVE.has(call.state) && call.room !== undefined && p?.state === 'joined' ? CALL_ROOM_GRANTS : [];
    }
    const snap = await this.#o.directory?.snapshotOf(callId);
    if (snap && snap.org !== me.token.org) return undefined;
    if (!snap || snap.call.roomId !== roomId || !ACTIVE.has(snap.call.state)) return [];
    const { caller, callees } = snap.call;
    const p = caller.sub === me.sub ? caller : callees.find((c) => c.sub === me.sub);
    return p?.state === 'joined' ? CALL_ROOM_GRANTS : [];
  }

  /**
   * A meeting room (not a call's): an invitee who accepted an invitation to it has join, publish
   * and subscribe there on top of their token's grants; anyone else: as their token says.
   */
  async #meetingAccess(me: Principal, roomId: string): Promise<readonly RoomGrant[] | undefined> {
    // the token grants it all already: nothing to look up (most joins)
    if (CALL_ROOM_GRANTS.every((g) => me.hasRoom(roomId, g))) return undefined;
    const key = `${me.key}\n${roomId}`;
    const until = this.#grants.get(key);
    let invited = until !== undefined && until > this.#now();
    if (!invited && this.#o.directory) invited = await this.#o.directory.roomGranted(me.token.org, roomId, me.sub);
    if (!invited) return undefined;
    return ROOM_GRANTS.filter((g) => CALL_ROOM_GRANTS.includes(g) || me.hasRoom(roomId, g));
  }

  #grantLocally(org: string, roomId: string, sub: string): void {
    const now = this.#now();
    if (this.#grants.size >= MAX_LOCAL_GRANTS)
      for (const [k, until] of this.#grants) if (until <= now) this.#grants.delete(k);
    // still full of live grants: the oldest goes (the cluster's directory keeps its own copy)
    if (this.#grants.size >= MAX_LOCAL_GRANTS) {
      const oldest = this.#grants.keys().next();
      if (!oldest.done) this.#grants.delete(oldest.value);
    }
    const key = `${personKey(org, sub)}\n${roomId}`;
    this.#grants.delete(key);
    this.#grants.set(key, now + MEETING_GRANT_MS);
  }

  /**
   * Something happened in the meeting room `roomId` (on this node or, relayed, on another): a
   * person left it (`sub`), or its live room closed (no `sub`). The invitations held here that
   * ring into it — only `sub`'s when given — are checked: one whose meeting closed ends as
   * `cancelled` with reason `meeting-closed`, one whose inviter is in the meeting on no device
   * of any node ends as `cancelled` with reason `inviter-left`. The events only trigger the
   * check; the check asks the room record and where the inviter is now. `rejoining`: the room
   * closed under its people (a media worker died, a node fenced or draining), who join again at
   * once: the check waits `limits.rejoinGraceMs` for them.
   */
  meetingChanged(roomId: string, sub?: string, rejoining = false): void {
    const ids = this.#invitesByRoom.get(roomId);
    if (!ids) return;
    for (const id of [...ids]) {
      const call = this.#calls.get(id);
      if (!call || (sub !== undefined && call.caller.sub !== sub)) continue;
      if (rejoining) this.#recheckLater(call, this.#o.limits.rejoinGraceMs ?? 10_000);
      else this.#track(this.#recheckInvitation(call, this.#o.directory !== undefined));
    }
  }

  /** Check the invitation once more in `ms`, with no further recheck (unless the service closed meanwhile). */
  #recheckLater(call: Call, ms: number): void {
    const timer = setTimeout(() => {
      this.#rechecks.delete(timer);
      this.#track(this.#recheckInvitation(call, false));
    }, ms);
    timer.unref();
    this.#rechecks.add(timer);
  }

  async #recheckInvitation(call: Call, again: boolean): Promise<void> {
    const meeting = call.meeting;
    if (!meeting || !ACTIVE.has(call.state)) return;
    let reason: string | null = null;
    try {
      const room = await this.#o.rooms.meeting(call.org, meeting.roomId);
      if (!room || room.closed) reason = INVITATION_END_REASONS.meetingClosed;
      else if (!(await this.#o.rooms.isIn(call.org, call.caller.sub, meeting.roomId)))
        reason = INVITATION_END_REASONS.inviterLeft;
    } catch (err) {
      // unknown: it keeps ringing (the ring timer still ends it; accepting checks the room again)
      this.#log.warn({ err, call: call.id, org: call.org, room: meeting.roomId }, 'call: invitation not rechecked');
      return;
    }
    if (!ACTIVE.has(call.state) || this.#closed) return;
    if (reason === null) {
      if (again) this.#recheckLater(call, MEETING_RECHECK_MS);
      return;
    }
    call.reason = reason;
    this.#log.info({ call: call.id, org: call.org, room: meeting.roomId, reason }, 'call: invitation cancelled');
    this.#finish(call, 'cancelled');
  }

  /** Invitations the person placed that ring now. */
  #invitingOf(org: string, sub: string): number {
    let n = 0;
    for (const id of this.#byPerson.get(personKey(org, sub)) ?? []) {
      const call = this.#calls.get(id);
      if (call?.meeting && call.caller.sub === sub && ACTIVE.has(call.state)) n++;
    }
    return n;
  }

  /** The person's active calls (ringing for them, or running with them in it). */
  list(org: string, sub: string): CallInfo[] {
    const ids = this.#byPerson.get(personKey(org, sub));
    const out: CallInfo[] = [];
    for (const id of ids ?? []) {
      const call = this.#calls.get(id);
      if (call && ACTIVE.has(call.state)) out.push(this.view(call, sub));
    }
    return out;
  }

  /**
   * The person has had no connection for the grace period: they leave every call they are in
   * (a ringing call they made is cancelled); calls ringing for them keep ringing (they may come back).
   */
  personGone(org: string, sub: string): void {
    for (const id of [...(this.#byPerson.get(personKey(org, sub)) ?? [])]) {
      const call = this.#calls.get(id);
      if (!call || !ACTIVE.has(call.state)) continue;
      if (call.caller.sub === sub && call.state === 'ringing') {
        call.reason = 'caller-gone';
        this.#finish(call, 'cancelled');
        continue;
      }
      const p = call.caller.sub === sub ? call.caller : call.callees.get(sub);
      if (p?.state === 'joined') this.#leave(call, p);
    }
  }

  /** Stop every timer; calls in flight end as `failed` (the node is going away). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const call of this.#calls.values())
      if (ACTIVE.has(call.state)) {
        call.reason = 'server-shutdown';
        this.#finish(call, 'failed');
      }
    for (const call of this.#calls.values()) clearTimeout(call.timer);
    for (const timer of this.#rechecks) clearTimeout(timer);
    this.#rechecks.clear();
    await Promise.allSettled([...this.#pending]);
  }

  // ── views ─────────────────────────────────────────────────────────────────

  view(call: Call, sub: string): CallInfo {
    const mine = call.caller.sub === sub ? call.caller : call.callees.get(sub);
    return {
      id: call.id,
      state: call.state,
      reason: call.reason,
      caller: partyView(call.caller),
      callees: [...call.callees.values()].map(partyView),
      group: call.group,
      video: call.video,
      tier: call.tier,
      roomId: call.roomId,
      meeting: call.meeting && { ...call.meeting },
      startedAt: call.startedAt,
      ringsUntil: Math.max(0, ...[...call.callees.values()].filter((p) => p.state === 'ringing').map((p) => p.until)),
      acceptedAt: call.acceptedAt,
      endedAt: call.endedAt,
      version: call.version,
      me: {
        sub,
        state: call.caller.sub === sub ? 'caller' : (mine?.state ?? 'left'),
        dismissedOn: mine ? [...mine.dismissedOn] : [],
        answeredOn: mine?.answeredOn ?? null,
      },
    };
  }

  // ── the state machine ─────────────────────────────────────────────────────

  /** Decide the call's state from its parties (no-op on a finished call). */
  #settle(call: Call): void {
    if (!ACTIVE.has(call.state)) return;
    const parties = [...call.callees.values()];
    const ringing = parties.some((p) => p.state === 'ringing');
    if (call.state === 'ringing') {
      if (ringing) return;
      const state: CallState = parties.every((p) => p.state === 'busy')
        ? 'busy'
        : parties.some((p) => p.state === 'missed')
          ? 'missed'
          : 'declined';
      this.#finish(call, state);
      return;
    }
    // an accepted invitation is over once nobody rings (the meeting goes on without it)
    if (call.meeting) {
      if (!ringing) this.#finish(call, 'ended');
      return;
    }
    const inCall = (call.caller.state === 'joined' ? 1 : 0) + parties.filter((p) => p.state === 'joined').length;
    if (inCall === 0 || (inCall < 2 && !ringing)) this.#finish(call, 'ended');
  }

  #leave(call: Call, p: Party): void {
    this.#setParty(p, 'left');
    this.#o.directory?.setInCall(call.org, p.sub, call.id, false);
    this.#log.info({ call: call.id, org: call.org, sub: p.sub }, 'call: left');
    this.#settle(call);
    if (!ACTIVE.has(call.state)) return; // the call ended: #finish closes its room
    this.#emit(call);
    const roomId = call.roomId;
    if (roomId !== null)
      this.#track(
        this.#o.rooms
          .removePerson(call.org, roomId, p.sub)
          .catch((err: unknown) =>
            this.#log.error(
              { err, call: call.id, org: call.org, room: roomId, sub: p.sub },
              'call: a person who left stays in its room',
            ),
          ),
      );
  }

  /**
   * A new call (or invitation) by `me`, not yet registered: the caller in it, each of `callees`
   * ringing until the ring timeout, or busy when in a call on this node already.
   */
  #ringingCall(
    me: Principal,
    id: string,
    callees: readonly string[],
    kind: Pick<Call, 'group' | 'video' | 'tier' | 'meeting'>,
  ): Call {
    const org = me.token.org;
    const now = this.#now();
    const until = now + this.#o.limits.ringTimeoutMs;
    const call: Call = {
      id,
      org,
      caller: party(me.sub, me.name, 'joined', now, 0),
      callerSite: me.token.site,
      callerPrincipal: me,
      callees: new Map(),
      state: 'ringing',
      reason: null,
      ...kind,
      roomId: null,
      room: undefined,
      startedAt: now,
      acceptedAt: null,
      endedAt: null,
      version: 0,
      timer: undefined,
    };
    call.caller.everJoined = true;
    for (const sub of callees)
      call.callees.set(sub, party(sub, null, this.#inCall(org, sub) ? 'busy' : 'ringing', now, until));
    return call;
  }

  /**
   * A new call (or invitation), registered, rings `callees`: those found busy do not ring; the call
   * ends if nobody rings, else its ring timer is armed and it is sent.
   */
  async #ringOut(call: Call, callees: readonly string[]): Promise<void> {
    await this.#askWhoIsBusy(call, callees);
    if (call.state === 'ringing') {
      this.#busyStopRinging(call.callees.values());
      this.#settle(call);
    }
    if (call.state === 'ringing') this.#arm(call);
    // a finished call (everyone busy) was sent by #finish
    if (ACTIVE.has(call.state)) this.#emit(call);
  }

  /** Names and do-not-disturb of `subs` (callees of `call`), and which of them are in a call on another node. */
  async #askWhoIsBusy(call: Call, subs: readonly string[]): Promise<void> {
    await Promise.all([this.#lookUp(call, subs), this.#busyElsewhere(call, subs)]);
  }

  /** Parties still ringing whom #askWhoIsBusy found busy are busy. */
  #busyStopRinging(parties: Iterable<Party | undefined>): void {
    for (const p of parties) if (p?.state === 'ringing' && this.#dnd.has(p)) this.#setParty(p, 'busy');
  }

  /** The one ring timer: at the earliest deadline of the parties still ringing. */
  #arm(call: Call): void {
    clearTimeout(call.timer);
    call.timer = undefined;
    const deadlines = [...call.callees.values()].filter((p) => p.state === 'ringing').map((p) => p.until);
    if (deadlines.length === 0 || !ACTIVE.has(call.state)) return;
    const wait = Math.max(0, Math.min(...deadlines) - this.#now());
    call.timer = setTimeout(() => this.#ringTimedOut(call), wait);
    call.timer.unref();
  }

  #ringTimedOut(call: Call): void {
    call.timer = undefined;
    if (!ACTIVE.has(call.state)) return;
    const now = this.#now();
    for (const p of call.callees.values())
      if (p.state === 'ringing' && p.until <= now) {
        this.#setParty(p, 'missed');
        this.#missed(call, p);
      }
    if (call.state === 'ringing') call.reason = 'timeout';
    this.#settle(call);
    if (ACTIVE.has(call.state)) {
      this.#arm(call);
      this.#emit(call);
    }
  }

  #finish(call: Call, state: CallState): void {
    clearTimeout(call.timer);
    call.timer = undefined;
    const now = this.#now();
    for (const p of call.callees.values())
      if (p.state === 'ringing') {
        this.#setParty(p, state === 'cancelled' ? 'cancelled' : 'missed');
        this.#missed(call, p);
      } else if (p.state === 'joined' && !call.meeting) this.#setParty(p, 'left');
    // an invitation's invitees who joined stay `joined`: they are in the meeting, which goes on
    if (call.caller.state === 'joined' && !call.meeting) this.#setParty(call.caller, 'left');
    call.state = state;
    call.endedAt = now;
    const people = [call.caller.sub, ...call.callees.keys()];
    for (const sub of people) unindex(this.#byPerson, personKey(call.org, sub), call.id);
    if (call.meeting) unindex(this.#invitesByRoom, call.meeting.roomId, call.id);
    const directory = this.#o.directory;
    if (directory) {
      if (!call.group && call.acceptedAt === null && !call.meeting)
        directory.releasePair(call.org, call.caller.sub, [...call.callees.keys()][0]!, call.id);
      for (const sub of people) directory.setInCall(call.org, sub, call.id, false);
      directory.finished(call.org, call.id, people);
    }
    this.#finished.push({ id: call.id, at: now });
    this.#forgetOld(now);
    this.#log.info({ call: call.id, org: call.org, state, reason: call.reason }, 'call: finished');
    this.#finishedCount?.inc({ state });
    this.#emit(call);
    this.#track(this.#writeHistory(call));
    if (call.roomId !== null) this.#endRoom(call);
  }

  /** The call is over: so is its room (record closed, live room closed, people told). */
  #endRoom(call: Call): void {
    const roomId = call.roomId;
    if (roomId === null) return;
    this.#track(
      this.#o.rooms
        .end(call.org, roomId)
        .catch((err: unknown) =>
          this.#log.error({ err, call: call.id, org: call.org, room: roomId }, 'call: its room could not be closed'),
        ),
    );
  }

  /** A callee's ring ended unanswered: "missed call" in the DM with the caller. */
  #missed(call: Call, p: Party): void {
    const caller = { sub: call.caller.sub, site: call.callerSite, name: call.caller.name ?? call.caller.sub };
    this.#track(
      this.#o.notices
        .missed(call.org, caller, p.sub, call.startedAt, call.meeting ?? undefined)
        .catch((err: unknown) =>
          this.#log.warn({ err, call: call.id, org: call.org, sub: p.sub }, 'call: missed-call notice not delivered'),
        ),
    );
  }

  async #writeHistory(call: Call): Promise<void> {
    const ended = call.endedAt ?? this.#now();
    const everyone = [call.caller.sub, ...call.callees.keys()];
    const entry = (sub: string, direction: 'outgoing' | 'incoming', outcome: CallHistoryEntry['outcome']) => ({
      callId: call.id,
      direction,
      outcome,
      with: everyone.filter((s) => s !== sub),
      group: call.group,
      startedAt: call.startedAt,
      endedAt: ended,
      unread: outcome === 'missed' && direction === 'incoming',
      meeting: call.meeting && { ...call.meeting },
    });
    const s = call.state;
    const callerOutcome: CallHistoryEntry['outcome'] =
      call.acceptedAt !== null
        ? 'answered'
        : s === 'missed' || s === 'declined' || s === 'busy' || s === 'cancelled'
          ? s
          : 'failed';
    const writes = [this.#o.history.add(call.org, call.caller.sub, entry(call.caller.sub, 'outgoing', callerOutcome))];
    for (const p of call.callees.values()) {
      const outcome: CallHistoryEntry['outcome'] = p.everJoined
        ? 'answered'
        : p.state === 'declined'
          ? 'declined'
          : p.state === 'busy'
            ? 'busy'
            : 'missed';
      writes.push(this.#o.history.add(call.org, p.sub, entry(p.sub, 'incoming', outcome)));
    }
    const results = await Promise.allSettled(writes);
    for (const r of results)
      if (r.status === 'rejected')
        this.#log.error({ err: r.reason, call: call.id, org: call.org }, 'call: a history entry was not written');
  }

  // ── bookkeeping ───────────────────────────────────────────────────────────

  #emit(call: Call): void {
    call.version++;
    // the snapshot first: a person told of the room may join it through another node at once (roomAccess)
    if (ACTIVE.has(call.state)) this.#o.directory?.snapshot(call.org, this.view(call, call.caller.sub));
    for (const sub of [call.caller.sub, ...call.callees.keys()])
      this.#o.bus.toPerson(call.org, sub, this.view(call, sub));
  }

  #setParty(p: Party, state: CallPartyState): void {
    p.state = state;
    p.at = this.#now();
  }

  #register(call: Call): void {
    this.#calls.set(call.id, call);
    for (const sub of [call.caller.sub, ...call.callees.keys()])
      index(this.#byPerson, personKey(call.org, sub), call.id);
    if (call.meeting) index(this.#invitesByRoom, call.meeting.roomId, call.id);
  }

  #forgetOld(now: number): void {
    while (this.#finished.length > 0 && now - this.#finished[0]!.at > REMEMBER_FINISHED_MS)
      this.#calls.delete(this.#finished.shift()!.id);
  }

  #callOf(me: Principal, callId: string): Call {
    const call = this.#calls.get(callId);
    const isParty = call && (call.caller.sub === me.sub || call.callees.has(me.sub));
    // a call of another org, or one the person is not part of, does not exist for them
    if (!call || call.org !== me.token.org || !isParty) throw new MoimError('NOT_FOUND', 'no such call');
    return call;
  }

  /** A ringing 1:1 call from `caller` to `callee` (the other half of two people calling each other). */
  #ringingFrom(org: string, caller: string, callee: string): Call | undefined {
    for (const id of this.#byPerson.get(personKey(org, caller)) ?? []) {
      const call = this.#calls.get(id);
      if (
        call &&
        call.state === 'ringing' &&
        !call.group &&
        call.meeting === null &&
        call.caller.sub === caller &&
        call.callees.get(callee)?.state === 'ringing'
      )
        return call;
    }
    return undefined;
  }

  /** In a call: the caller of an active call, or a callee who answered one. */
  #inCall(org: string, sub: string): boolean {
    return this.#callsOf(org, sub) > 0;
  }

  #callsOf(org: string, sub: string): number {
    let n = 0;
    for (const id of this.#byPerson.get(personKey(org, sub)) ?? []) {
      const call = this.#calls.get(id);
      // an invitation takes nobody into a call
      if (!call || !ACTIVE.has(call.state) || call.meeting) continue;
      const p = call.caller.sub === sub ? call.caller : call.callees.get(sub);
      if (p?.state === 'joined') n++;
    }
    return n;
  }

  #checkCallsOf(me: Principal): void {
    if (this.#callsOf(me.token.org, me.sub) >= this.#o.limits.maxCallsPerPerson)
      throw new MoimError(
        'TOO_MANY_CALLS',
        `at most ${this.#o.limits.maxCallsPerPerson} calls at once; hang up one first`,
      );
  }

  #checkCallees(tier: Tier, n: number): void {
    const max = Math.min(this.#o.limits.maxCallees, TIER_PROFILES[tier].maxPeers - 1);
    if (n > max) throw new MoimError('TOO_MANY_CALLEES', `a ${tier} call rings at most ${max} people`);
  }

  async #lookUp(call: Call, subs: readonly string[]): Promise<void> {
    if (subs.length === 0) return;
    try {
      const found = await this.#o.people.lookup(call.org, subs);
      for (const sub of subs) {
        const p = call.callees.get(sub);
        const f = found.get(sub);
        if (!p || !f) continue;
        p.name = f.name;
        if (f.busy) this.#dnd.add(p);
      }
    } catch (err) {
      // names are a courtesy; do-not-disturb unknown: they ring
      this.#log.warn({ err, call: call.id, org: call.org }, 'call: presence look-up failed');
    }
  }

  /** Callees in a call held by another node (cluster) are busy, as those in one here are. */
  async #busyElsewhere(call: Call, subs: readonly string[]): Promise<void> {
    const directory = this.#o.directory;
    if (!directory || subs.length === 0) return;
    try {
      for (const sub of await directory.inCallElsewhere(call.org, subs)) {
        const p = call.callees.get(sub);
        if (p) this.#dnd.add(p);
      }
    } catch (err) {
      // unknown: they ring (and answering is still bounded per person on their node)
      this.#log.warn({ err, call: call.id, org: call.org }, 'call: could not ask the cluster who is in a call');
    }
  }

  #track(p: Promise<unknown>): void {
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }

  #assertOpen(): void {
    if (this.#closed) throw new MoimError('UNAVAILABLE', 'the server is shutting down');
  }
}

function party(sub: string, name: string | null, state: CallPartyState, at: number, until: number): Party {
  return { sub, name, state, at, until, dismissedOn: new Set(), answeredOn: null, everJoined: false };
}

function partyView(p: Party) {
  return { sub: p.sub, name: p.name, state: p.state, at: p.at };
}

/** Ringing or in the call: adding them again changes nothing. */
function isOn(p: Party | undefined): boolean {
  return p?.state === 'ringing' || p?.state === 'joined';
}

function notRinging(call: Call, p: Party): MoimError {
  const why =
    p.state === 'joined'
      ? 'it was answered on another device'
      : p.state === 'ringing'
        ? `the call is ${call.state}`
        : `it is ${p.state} for you (the call is ${call.state})`;
  return new MoimError('CALL_NOT_RINGING', `this call is no longer ringing: ${why}`);
}
