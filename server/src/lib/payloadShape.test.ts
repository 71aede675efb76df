import { describe, expect, it } from 'vitest';
import { payloadShapeProblem } from './payloadShape.ts';

describe('payloadShapeProblem', () => {
  it('passes ordinary payloads, primitives and null', () => {
    for (const p of [null, undefined, 1, 'text', [], {}, { roomId: 'r', list: [1, { a: 'b' }] }])
      expect(payloadShapeProblem(p, { maxValues: 100, maxDepth: 8 })).toBeUndefined();
    // names of Object.prototype members other than __proto__ are ordinary keys
    expect(payloadShapeProblem({ constructor: { prototype: { x: 1 } }, toString: 1 })).toBeUndefined();
  });

  it('refuses a __proto__ key at any depth (as JSON.parse makes it: an own key)', () => {
    for (const raw of ['{"__proto__":{"x":1}}', '{"a":[{"b":{"__proto__":null}}]}', '[[{"__proto__":1}]]'])
      expect(payloadShapeProblem(JSON.parse(raw))).toBe('payload: a key named __proto__ is not accepted');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('refuses more values than allowed, counting keys and items before walking them', () => {
    const wide = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, i]));
    expect(payloadShapeProblem(wide, { maxValues: 100 })).toBe('payload: more than 100 values');
    expect(payloadShapeProblem(new Array(1_000_000).fill(0), { maxValues: 100 })).toBe('payload: more than 100 values');
    expect(payloadShapeProblem({ a: [1, 2], b: { c: 3 } }, { maxValues: 6 })).toBeUndefined();
    expect(payloadShapeProblem({ a: [1, 2], b: { c: 3 } }, { maxValues: 5 })).toBe('payload: more than 5 values');
  });

  it('refuses nesting deeper than allowed', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 10; i++) deep = { d: deep };
    expect(payloadShapeProblem(deep, { maxDepth: 10 })).toBeUndefined();
    expect(payloadShapeProblem({ d: deep }, { maxDepth: 10 })).toBe('payload: nested deeper than 10 levels');
    let arrays: unknown = [];
    for (let i = 0; i < 100_000; i++) arrays = [arrays];
    expect(payloadShapeProblem(arrays)).toBe('payload: nested deeper than 64 levels');
  });
});
