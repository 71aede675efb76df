/**
 * What the web app reads from a token to shape its interface (web-demo/src/grants.ts): a room's
 * grants decide whether the meeting offers the Record button (issue 16). The server checks every
 * request all the same.
 */
import { describe, expect, it } from 'vitest';
import { roomGrants } from '../web-demo/src/grants.ts';

/** An unsigned JWT-shaped token with these claims (only the payload is read). */
const tokenWith = (claims: unknown): string => `x.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.y`;

describe('roomGrants', () => {
  it("reads the room's own entry, else `*`; a call's room gets what the server gives its people", () => {
    const manager = tokenWith({ grants: { rooms: { '*': ['join', 'publish', 'subscribe', 'moderate', 'record'] } } });
    expect(roomGrants(manager, 'r1')).toContain('record');
    const narrow = tokenWith({ grants: { rooms: { r1: ['join'], '*': ['join', 'record'] } } });
    expect(roomGrants(narrow, 'r1')).toEqual(['join']);
    expect(roomGrants(narrow, 'r2')).toEqual(['join', 'record']);
    // a call's room: the server replaces the token's grants with join/publish/subscribe
    expect(roomGrants(manager, 'call-123')).toEqual(['join', 'publish', 'subscribe']);
    // no grants for rooms, or a key of Object.prototype: nothing
    expect(roomGrants(tokenWith({ grants: {} }), 'r1')).toEqual([]);
    expect(roomGrants(tokenWith({ grants: { rooms: {} } }), 'constructor')).toEqual([]);
    // unreadable: undefined (the app offers the action and the server decides)
    expect(roomGrants('not-a-jwt', 'r1')).toBeUndefined();
    expect(roomGrants(undefined, 'r1')).toBeUndefined();
  });
});
