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

  it('reports what each person spent since the last report, and takes what they spent elsewhere, one burst of debt at most', () => {
    const limits = new PersonLimits({ maxConnections: 5, ratePerSec: 0.001, burst: 4 });
    const ann = personKey('acme', 'ann');
    const bob = personKey('acme', 'bob');
    limits.add(ann, 'c1');
    limits.add(bob, 'c2');
    limits.take(ann);
    limits.take(ann);
    expect([...limits.drainSpent()]).toEqual([[ann, 2]]);
    expect(limits.drainSpent().size).toBe(0);
    // another node spent 10 of ann's: 2 left here, so 12 of debt, floored at one burst (4)
    limits.spentElsewhere(ann, 10);
    expect(limits.take(ann)).toBe(false);
    limits.spentElsewhere(bob, 3);
    expect([limits.take(bob), limits.take(bob)]).toEqual([true, false]);
    expect([...limits.counts()]).toEqual([
      [ann, 1],
      [bob, 1],
    ]);
  });
});
