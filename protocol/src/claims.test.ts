import { describe, expect, it } from 'vitest';
import { docGrantsFor, grantsSchema, ownValue, roomGrantsFor } from './claims.ts';

const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf'];

describe('grant lookups keyed by user input (issue 11, item 2)', () => {
  it('never find Object.prototype members', () => {
    const grants = grantsSchema.parse({ rooms: { r1: ['join'] }, docs: { notes: ['read'] } });
    for (const name of PROTOTYPE_NAMES) {
      expect(docGrantsFor(grants, name), name).toEqual([]);
      expect(roomGrantsFor(grants, name), name).toEqual([]);
      expect(ownValue({ a: 1 }, name), name).toBeUndefined();
    }
  });

  it('fall back to the wildcard for prototype names', () => {
    const grants = grantsSchema.parse({ rooms: { '*': ['join'] }, docs: { '*': ['read', 'write'] } });
    for (const name of PROTOTYPE_NAMES) {
      expect(docGrantsFor(grants, name), name).toEqual(['read', 'write']);
      expect(roomGrantsFor(grants, name), name).toEqual(['join']);
    }
  });

  it('a token naming a document "__proto__" keeps it as an own key, not a prototype', () => {
    const grants = grantsSchema.parse(JSON.parse('{"docs":{"__proto__":["read"],"x":["write"]}}'));
    expect(Object.getPrototypeOf(grants.docs)).not.toEqual(['read']);
    expect(docGrantsFor(grants, 'x')).toEqual(['write']);
    expect(docGrantsFor(grants, 'constructor')).toEqual([]);
  });
});
