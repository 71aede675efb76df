import type { Tier } from '@moim/protocol';

/** A video room's stored record. The tier and the organisation never change once created. */
export interface RoomRecord {
  id: string;
  /**
   * The organisation the room belongs to (its creator's token `org`; rooms made before orgs were
   * stored belong to `default`). Nobody of another org finds it, whatever their grants say.
   */
  org: string;
  tier: Tier;
  name: string | null;
  ownerSub: string;
  /** Linked document (the room's notes), served by the documents service. */
  docName: string;
  createdAt: number;
  /** Set when a moderator closed the room; a closed room cannot be joined again. */
  closedAt: number | null;
}

/** Video rooms and the people removed from them. */
export interface RoomStore {
  /** Store a new room; CONFLICT when the id exists. */
  create(room: Omit<RoomRecord, 'closedAt'>): Promise<RoomRecord>;
  /** The room `id` of organisation `org`; undefined when it does not exist or is another org's. */
  get(org: string, id: string): Promise<RoomRecord | undefined>;
  /** Mark a room closed; false when it was already closed or does not exist. */
  close(id: string, at: number): Promise<boolean>;
  /** Remember that `sub` was removed from the room and may not join it again. */
  ban(roomId: string, sub: string, by: string, at: number): Promise<void>;
  isBanned(roomId: string, sub: string): Promise<boolean>;
}
