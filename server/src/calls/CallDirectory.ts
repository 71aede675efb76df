import type { CallInfo } from '@moim/protocol';

/**
 * What other nodes must know of the calls a node holds (cluster mode; cluster/RedisCallDirectory.ts):
 * each call's home node, the calls of each person, who is in a call, and the ringing 1:1 pairs —
 * so a request reaches the call's home from any node, "busy" sees every node's calls, and two
 * people calling each other through different nodes still end in one call. One node alone needs
 * none of it (CallService keeps all of that in memory).
 */
export interface CallDirectory {
  /**
   * A 1:1 call `callId` from `caller` to `callee` is about to ring. In one atomic step: if a call
   * from `callee` to `caller` is ringing (anywhere), answer its id (this call is not made: the
   * caller answers that one); else record this one as ringing from caller to callee, homed here.
   */
  claimPair(org: string, caller: string, callee: string, callId: string): Promise<string | null>;
  /** The 1:1 call stopped ringing (answered or finished): its pair record goes. */
  releasePair(org: string, caller: string, callee: string, callId: string): void;
  /** A call homed here rings these people (its caller included). */
  placed(org: string, callId: string, people: readonly string[]): void;
  /** The call finished: its home and its people's entries go. */
  finished(org: string, callId: string, people: readonly string[]): void;
  /** `sub` is (or is no longer) in the call: busy for calls placed on any node. */
  setInCall(org: string, sub: string, callId: string, inCall: boolean): void;
  /** Those of `subs` in a call homed on another node. */
  inCallElsewhere(org: string, subs: readonly string[]): Promise<Set<string>>;
  /** The node that holds the call, if any. */
  homeOf(callId: string): Promise<string | null>;
  /** Ids of the active calls of a person, on every node. */
  callsOf(org: string, sub: string): Promise<string[]>;
  /** The call's latest state (as its caller sees it), kept so that its people can be told if this node dies. */
  snapshot(org: string, call: CallInfo): void;
  /** The latest state of an active call held by a live node (any node), if any. */
  snapshotOf(callId: string): Promise<{ org: string; call: CallInfo } | null>;
  /** An invitee accepted a meeting invitation: they may enter the room for `ttlMs` (from any node). */
  grantRoom(org: string, roomId: string, sub: string, ttlMs: number): Promise<void>;
  /** Whether an accepted invitation lets the person into the room now. */
  roomGranted(org: string, roomId: string, sub: string): Promise<boolean>;
}

/** `start` found the other person's call ringing for the caller on another node: answer it there. */
export class CallElsewhereError extends Error {
  readonly callId: string;
  constructor(callId: string) {
    super(`call ${callId} is held by another node`);
    this.callId = callId;
  }
}
