import { describe, expect, it } from 'vitest';
import { personKey } from '../auth/Principal.ts';
import { PersonLimits } from './PersonLimits.ts';

describe('PersonLimits', () => {
  it('caps connections per person and forgets a person with their last connection', () => {
    const limits = new PersonLimits({ maxConnections: 2, ratePerSec: 1, burst: 3 });
    const ann = personKey('acme', 'ann');
    expect(limits.canConnect(ann)).toBe(true);
    limits.add(ann, 'c1');
    limits.add(ann, 'c1'); // idempotent
    limits.add(ann, 'c2');
    expect(limits.canConnect(ann)).toBe(false);
    // the same sub elsewhere is someone else
    expect(limits.canConnect(personKey('globex', 'ann'))).toBe(true);
    limits.remove(ann, 'c1');
    expect(limits.canConnect(ann)).toBe(true);
    limits.remove(ann, 'c2');
    expect(limits.size).toBe(0);
  });

  it('shares one bucket between all connections of a person', () => {
    const limits = new PersonLimits({ maxConnections: 5, ratePerSec: 1, burst: 3 });
    const key = personKey('acme', '__proto__');
    limits.add(key, 'c1');
    limits.add(key, 'c2');
    expect([limits.take(key), limits.take(key), limits.take(key), limits.take(key)]).toEqual([true, true, true, false]);
    // without a connection there is no bucket to take from
    expect(limits.take(personKey('acme', 'constructor'))).toBe(false);
  });
});
