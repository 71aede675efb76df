/**
 * Moderation of a video room (the `moderate` grant, or the room's owner): mute a peer, stop its
 * video, remove (and ban) it, close the room. Every action is audited. MediaService owns the
 * rooms and peers; this file decides who may moderate and carries the action out on the SFU room.
 */
import { MoimError, type RequestData, type RequestName } from '@moim/protocol';
import type { MediaRoom } from '@moim/sfu';
import { type Principal, personKey } from '../auth/Principal.ts';
import type { Logger } from '../logger.ts';
import type { AuditStore, RoomRecord, RoomStore } from '../storage/index.ts';

type Data<N extends RequestName> = RequestData<N>;

export interface ModerationDeps {
  rooms: RoomStore;
  audit: AuditStore;
  log: Logger;
  /** The caller's organisation's room record (NOT_FOUND otherwise). */
  record(caller: Principal, roomId: string): Promise<RoomRecord>;
  /** The live SFU room, if anybody is in it. */
  live(roomId: string): MediaRoom | undefined;
  /** The person key of a peer of this node. */
  keyOf(peerId: string): string | undefined;
  /** The caller with the grants a service decides in its own rooms (MediaService.giveRoomAccess). */
  granted(caller: Principal, roomId: string): Promise<Principal>;
}

export class MediaModeration {
  readonly #deps: ModerationDeps;

  constructor(deps: ModerationDeps) {
    this.#deps = deps;
  }

  async mutePeer(caller: Principal, d: Data<'room:mutePeer'>) {
    const room = await this.#moderated(caller, d.roomId);
    const paused = await room.mutePeer(d.peerId, d.producerId);
    await this.#audit(caller, 'room.mute-peer', d.roomId, { peerId: d.peerId, paused });
    return { paused };
  }

  async stopVideo(caller: Principal, d: Data<'room:stopVideo'>) {
    const room = await this.#moderated(caller, d.roomId);
    const closed = room.stopVideo(d.peerId, d.producerId);
    await this.#audit(caller, 'room.stop-video', d.roomId, { peerId: d.peerId, closed });
    return { closed };
  }

  async removePeer(caller: Principal, d: Data<'room:removePeer'>) {
    const room = await this.#moderated(caller, d.roomId);
    const peer = room.peer(d.peerId);
    if (this.#deps.keyOf(peer.id) === caller.key) throw new MoimError('INVALID_PAYLOAD', 'use room:leave to leave');
    await this.#deps.rooms.ban(d.roomId, peer.sub, caller.sub, Date.now());
    room.removePeer(peer.id, 'removed', d.reason);
    await this.#audit(caller, 'room.remove-peer', d.roomId, { sub: peer.sub, reason: d.reason ?? null });
    return { removed: true };
  }

  async closeRoom(asked: Principal, { roomId }: Data<'room:close'>) {
    const caller = await this.#deps.granted(asked, roomId);
    caller.requireRoom(roomId, 'join');
    const record = await this.#deps.record(caller, roomId);
    this.requireModerator(caller, record);
    const closed = await this.#deps.rooms.close(roomId, Date.now());
    this.#deps.live(roomId)?.close('ROOM_CLOSED');
    await this.#audit(caller, 'room.close', roomId, {});
    return { closed };
  }

  /** The `moderate` grant or the room's owner; FORBIDDEN otherwise. */
  requireModerator(caller: Principal, record: RoomRecord): void {
    // #record found the room in the caller's org, so the owner's sub names one person there
    if (!caller.hasRoom(record.id, 'moderate') && personKey(record.org, record.ownerSub) !== caller.key)
      throw new MoimError('FORBIDDEN', 'moderating this room needs the moderate grant');
  }

  async #moderated(asked: Principal, roomId: string): Promise<MediaRoom> {
    const caller = await this.#deps.granted(asked, roomId);
    caller.requireRoom(roomId, 'join');
    const record = await this.#deps.record(caller, roomId);
    this.requireModerator(caller, record);
    const room = this.#deps.live(roomId);
    if (!room || room.closed) throw new MoimError('NOT_FOUND', 'nobody is in this room');
    return room;
  }

  async #audit(caller: Principal, action: string, target: string, detail: Record<string, unknown>): Promise<void> {
    const entry = { actor: caller.sub, action, target, detail: { ...detail, org: caller.token.org } };
    await this.#deps.audit.append(entry).catch((err: unknown) => {
      this.#deps.log.error({ err, action }, 'audit append failed');
    });
  }
}
