/** Tests of `ConnectionRegistry`: connections by socket and by person, and the per-person limits. */
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { personKey } from '../auth/Principal.ts';
import type { Logger } from '../logger.ts';
import { ConnectionRegistry } from './ConnectionRegistry.ts';
import { DocConnection } from './DocConnection.ts';

const log = {} as Logger; // never used: these connections do not log
const person = personKey;

function conn(org: string, sub: string, docName: string): DocConnection {
  const ws = { OPEN: 1, readyState: 1 } as unknown as WebSocket;
  return new DocConnection({ ws, org, sub, docName, canWrite: true, expiresAt: Date.now() + 60_000, log });
}

describe('ConnectionRegistry', () => {
  it('indexes connections by person, oldest first, and forgets them on removal', () => {
    const registry = new ConnectionRegistry({ maxOpenPerPerson: 10, maxConnectionsPerPerson: 10 });
    const a1 = conn('acme', 'ann', 'plan');
    const a2 = conn('acme', 'ann', 'notes');
    const a3 = conn('acme', 'ann', 'plan');
    const b1 = conn('acme', 'bob', 'plan');
    const evil = conn('evil', 'ann', 'plan'); // the same sub in another organisation is another person
    for (const c of [a1, b1, a2, evil, a3]) {
      expect(registry.openDocument(c.personKey, c.docName)).toBe(true);
      registry.add(c);
    }
    expect(registry.ofPerson(person('acme', 'ann'))).toEqual([a1, a2, a3]);
    expect(registry.ofPerson(person('acme', 'bob'))).toEqual([b1]);
    expect(registry.ofPerson(person('evil', 'ann'))).toEqual([evil]);
    expect(registry.countOf(person('acme', 'ann'))).toBe(3);
    expect(registry.get(a2.ws)).toBe(a2);

    expect(registry.remove(a2)).toBe(true);
    expect(registry.remove(a2)).toBe(false);
    expect(registry.ofPerson(person('acme', 'ann'))).toEqual([a1, a3]);
    expect(registry.remove(a1)).toBe(true);
    expect(registry.ofPerson(person('acme', 'ann'))).toEqual([a3]);
    expect(registry.remove(a3)).toBe(true);
    expect(registry.ofPerson(person('acme', 'ann'))).toEqual([]);
    expect(registry.countOf(person('acme', 'ann'))).toBe(0);
    expect([...registry.values()]).toEqual([b1, evil]);
  });

  it('keeps each person to their limits of connections and documents', () => {
    const registry = new ConnectionRegistry({ maxOpenPerPerson: 2, maxConnectionsPerPerson: 3 });
    const key = person('acme', 'ann');
    const open = (docName: string) => {
      const c = conn('acme', 'ann', docName);
      if (!registry.hasRoomFor(key) || !registry.openDocument(key, docName)) return undefined;
      registry.add(c);
      return c;
    };
    const first = open('a');
    expect(open('b')).toBeDefined();
    expect(open('c')).toBeUndefined(); // a third document
    expect(open('a')).toBeDefined(); // a second connection to an open document
    expect(open('a')).toBeUndefined(); // a fourth connection
    registry.remove(first as DocConnection);
    expect(open('c')).toBeUndefined(); // 'a' is still open on another connection
    expect(open('b')).toBeDefined();
  });
});
