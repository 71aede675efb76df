/**
 * Rooms left empty are closed after a while (MOIM_ROOM_IDLE_CLOSE_S): when the last person leaves
 * a room, a timer starts; anyone joining again stops it; when it runs out the room's record is
 * marked closed (a later join is ROOM_CLOSED, as after a moderator closed it) and audited. A room
 * nobody ever joined (a booked meeting room waiting for its day) is not touched. 0 turns it off.
 * Timers are per node and in memory: a restart forgets them (the room then stays open until it
 * empties again). Keyed by room id in a `Map`.
 */
import type { Logger } from '../logger.ts';
import type { AuditStore, RoomStore } from '../storage/index.ts';

export interface IdleRoomsOptions {
  rooms: RoomStore;
  audit: AuditStore;
  log: Logger;
  /** How long an emptied room stays open; 0: forever. */
  idleMs: number;
  now?: () => number;
}

export class IdleRooms {
  readonly #opts: IdleRoomsOptions;
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(opts: IdleRoomsOptions) {
    this.#opts = opts;
  }

  /** Rooms waiting to be closed (tests, diagnostics). */
  get waiting(): number {
    return this.#timers.size;
  }

  /** The room's last person left: close it after the idle time unless someone joins. */
  emptied(roomId: string): void {
    if (this.#opts.idleMs <= 0) return;
    this.joined(roomId);
    const timer = setTimeout(() => {
      this.#timers.delete(roomId);
      void this.#close(roomId);
    }, this.#opts.idleMs);
    timer.unref?.();
    this.#timers.set(roomId, timer);
  }

  /** Someone joined: the room is in use again. */
  joined(roomId: string): void {
    const timer = this.#timers.get(roomId);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#timers.delete(roomId);
  }

  /** Stop every timer (the service is closing). */
  close(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  async #close(roomId: string): Promise<void> {
    const now = (this.#opts.now ?? Date.now)();
    try {
      if (!(await this.#opts.rooms.close(roomId, now))) return;
      await this.#opts.audit.append({
        actor: 'system',
        action: 'room.close.idle',
        target: roomId,
        detail: { idleMs: this.#opts.idleMs },
      });
      this.#opts.log.info({ room: roomId, idleMs: this.#opts.idleMs }, 'room closed after staying empty');
    } catch (err) {
      this.#opts.log.error({ err, room: roomId }, 'closing an empty room failed; it stays open');
    }
  }
}
