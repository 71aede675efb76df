import { type DocGrant, docGrantsFor, MoimError, type RoomGrant, roomGrantsFor, type Tier } from '@moim/protocol';
import type { VerifiedToken } from './TokenService.ts';

/**
 * The key of a person in maps and room names: `sub` is only unique inside an organisation (the
 * same sub in another org is someone else). JSON keeps the pair unambiguous.
 */
export const personKey = (org: string, sub: string): string => JSON.stringify([org, sub]);

/** The authenticated person behind a connection or request, with grant checks that throw FORBIDDEN. */
export class Principal {
  readonly token: VerifiedToken;
  /** `personKey(org, sub)` of this token (made once: every request's per-person limit reads it). */
  readonly key: string;
  /** Grants the server decides in one room, instead of the token's (`withRoomGrants`). */
  readonly #given: { roomId: string; grants: readonly RoomGrant[] } | undefined;
  constructor(token: VerifiedToken, given?: { roomId: string; grants: readonly RoomGrant[] }) {
    this.token = token;
    this.key = personKey(token.org, token.sub);
    this.#given = given;
  }

  /**
   * The same person with exactly `grants` in `roomId`, whatever their token names there: a room
   * whose people the server decides (a call's room: its people, nobody else). Other rooms,
   * documents, chat and creating rooms stay as the token says.
   */
  withRoomGrants(roomId: string, grants: readonly RoomGrant[]): Principal {
    return new Principal(this.token, { roomId, grants });
  }

  get sub(): string {
    return this.token.sub;
  }
  get name(): string {
    return this.token.name;
  }
  get isAdmin(): boolean {
    return this.token.role === 'admin';
  }

  hasRoom(roomId: string, grant: RoomGrant): boolean {
    if (this.#given?.roomId === roomId) return this.#given.grants.includes(grant);
    return roomGrantsFor(this.token.grants, roomId).includes(grant);
  }
  requireRoom(roomId: string, grant: RoomGrant): void {
    if (!this.hasRoom(roomId, grant)) throw new MoimError('FORBIDDEN', `no ${grant} grant for room ${roomId}`);
  }
  hasDoc(docName: string, grant: DocGrant): boolean {
    return docGrantsFor(this.token.grants, docName).includes(grant);
  }
  requireDoc(docName: string, grant: DocGrant): void {
    if (!this.hasDoc(docName, grant)) throw new MoimError('FORBIDDEN', `no ${grant} grant for document ${docName}`);
  }
  requireChat(): void {
    if (!this.token.grants.chat) throw new MoimError('FORBIDDEN', 'no chat grant');
  }
  requireCreateRoom(tier: Tier): void {
    if (!this.token.grants.createRooms.includes(tier))
      throw new MoimError('TIER_NOT_ALLOWED', `may not create ${tier} rooms`);
  }
  /** True while the token has not expired. */
  get valid(): boolean {
    return this.token.exp * 1000 > Date.now();
  }
}
