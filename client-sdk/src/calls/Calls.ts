/**
 * Calls that ring (`client.calls`): call people, answer or decline on this device, silence this
 * device, and follow every change of one's calls. The server owns each call's state machine; this
 * keeps the latest version of each call and tells the app when THIS device should start or stop
 * ringing. After a reconnect the calls are fetched again (a ring that ended meanwhile stops).
 */
import type { CallHistoryEntry, CallHistoryPage, CallInfo } from '@moim/protocol';
import { TypedEmitter } from '@moim/protocol/client';
import { getLogger, LoggerNames } from '../logger.ts';
import type { MoimClient } from '../MoimClient.ts';

const log = getLogger(LoggerNames.Client);

export interface CallsEvents {
  /** Any change of a call I take part in (the whole call, as I see it). */
  update: (call: CallInfo) => void;
  /** This device should ring now (an incoming call, not dismissed here). */
  ring: (call: CallInfo) => void;
  /** This device should stop ringing: answered (here or elsewhere), declined, dismissed, missed, cancelled. */
  stopRinging: (call: CallInfo) => void;
}

/** Whether `call` rings on the device `deviceId`. */
export function ringsOn(call: CallInfo, deviceId: string): boolean {
  return call.state !== 'busy' && call.me.state === 'ringing' && !call.me.dismissedOn.includes(deviceId);
}

/** Whether a call is still going on (ringing or accepted). */
export function callActive(call: CallInfo): boolean {
  return call.state === 'ringing' || call.state === 'accepted';
}

/**
 * The meeting a history entry offers to join ("Join"): an invitation's meeting room while it is
 * still open (as of the history's reading), else null. Join it with `client.rooms.join(roomId)`.
 */
export function meetingToJoin(entry: CallHistoryEntry): string | null {
  return entry.meeting?.open ? entry.meeting.roomId : null;
}

/**
 * Why a meeting invitation stopped ringing when the server ended it with its meeting: its
 * inviter left the meeting (`inviter-left`) or the meeting closed (`meeting-closed`); else null.
 */
export function invitationEndedBy(call: CallInfo): 'inviter-left' | 'meeting-closed' | null {
  if (!call.meeting || call.state !== 'cancelled') return null;
  return call.reason === 'inviter-left' || call.reason === 'meeting-closed' ? call.reason : null;
}

export class Calls extends TypedEmitter<CallsEvents> {
  readonly #client: MoimClient;
  readonly #calls = new Map<string, CallInfo>();
  readonly #ringing = new Set<string>();

  constructor(client: MoimClient) {
    super();
    this.#client = client;
    this.onListenerError = (event, error) => log.error('a calls listener failed', { event, error });
    client.onServer('call:update', (call) => this.#apply(call));
    client.addRestorer('calls', async () => {
      await this.refresh();
    });
  }

  /** My calls that are ringing or running, by id. */
  get active(): CallInfo[] {
    return [...this.#calls.values()].filter(callActive);
  }

  get(callId: string): CallInfo | undefined {
    return this.#calls.get(callId);
  }

  /** Calls ringing on this device now. */
  get ringing(): CallInfo[] {
    return [...this.#ringing].flatMap((id) => {
      const c = this.#calls.get(id);
      return c ? [c] : [];
    });
  }

  /** Call one person (1:1) or several (a group call). */
  async start(callees: string[], opts: { video?: boolean } = {}): Promise<CallInfo> {
    return this.#apply(await this.#client.request('call:start', { callees, video: opts.video ?? true }));
  }

  /**
   * Ring these people into the meeting `roomId` I am in now (a meeting invitation: `meeting` on
   * the call names the room). Their devices ring as for a call; one who accepts may join the room
   * (`client.rooms.join(call.meeting.roomId)`); the invitation never ends the meeting.
   */
  async invite(roomId: string, callees: string[]): Promise<CallInfo> {
    return this.#apply(await this.#client.request('call:invite', { roomId, callees }));
  }

  /** Answer on this device; resolves once the call's room exists (`roomId`: join it with `client.rooms.join`). */
  async accept(callId: string): Promise<CallInfo> {
    return this.#apply(await this.#client.request('call:accept', { callId }));
  }

  async decline(callId: string): Promise<CallInfo> {
    return this.#apply(await this.#client.request('call:decline', { callId }));
  }

  /** Stop ringing on this device only. */
  async dismiss(callId: string): Promise<CallInfo> {
    return this.#apply(await this.#client.request('call:dismiss', { callId }));
  }

  async cancel(callId: string): Promise<CallInfo> {
    return this.#apply(await this.#client.request('call:cancel', { callId }));
  }

  async hangup(callId: string): Promise<CallInfo> {
    return this.#apply(await this.#client.request('call:hangup', { callId }));
  }

  async add(callId: string, callees: string[]): Promise<CallInfo> {
    return this.#apply(await this.#client.request('call:add', { callId, callees }));
  }

  /** Fetch my active calls again (after a reconnect: rings that ended meanwhile stop). */
  async refresh(): Promise<CallInfo[]> {
    const { calls } = await this.#client.request('call:list', {});
    const seen = new Set(calls.map((c) => c.id));
    for (const c of calls) this.#apply(c);
    for (const [id, c] of this.#calls)
      if (!seen.has(id) && callActive(c)) {
        // it ended while this client was away: the server no longer lists it
        this.#calls.delete(id);
        if (this.#ringing.delete(id)) this.safeEmit('stopRinging', c);
      }
    return calls;
  }

  /** My call history, newest first, with the count of missed calls not yet seen. */
  history(limit = 50): Promise<CallHistoryPage> {
    return this.#client.fetchJson<CallHistoryPage>(`/calls/history?limit=${limit}`);
  }

  /** Mark my missed calls seen. */
  markHistoryRead(): Promise<{ read: number }> {
    return this.#client.fetchJson<{ read: number }>('/calls/history/read', { method: 'POST' });
  }

  #apply(call: CallInfo): CallInfo {
    const known = this.#calls.get(call.id);
    if (known && known.version > call.version) return known;
    this.#calls.set(call.id, call);
    if (!callActive(call))
      // finished calls are kept a little, for late views; the map stays small
      for (const [id, c] of this.#calls) if (!callActive(c) && this.#calls.size > 50) this.#calls.delete(id);
    const rings = ringsOn(call, this.#client.deviceId);
    if (rings && !this.#ringing.has(call.id)) {
      this.#ringing.add(call.id);
      this.safeEmit('ring', call);
    } else if (!rings && this.#ringing.delete(call.id)) this.safeEmit('stopRinging', call);
    this.safeEmit('update', call);
    return call;
  }
}
