/**
 * The shape check every inbound payload passes before its schema (the socket.io gateway's events,
 * the HTTP router's JSON bodies): no `__proto__` key at any depth (a copy by assignment, as a
 * record schema makes, would take it as the copy's prototype), and, where given, a bound on the
 * number of values and on nesting, so that a huge object is refused in one cheap walk instead of
 * being compared key by key with a schema (whose error would then name every key).
 */
export interface ShapeLimits {
  /** Most values (objects, arrays, primitives) in the payload. @default Infinity */
  maxValues?: number;
  /** Deepest nesting of objects and arrays. @default 64 */
  maxDepth?: number;
}

/** What is wrong with `payload`'s shape, in one line, or undefined when nothing is. */
export function payloadShapeProblem(payload: unknown, limits: ShapeLimits = {}): string | undefined {
  const maxValues = limits.maxValues ?? Number.POSITIVE_INFINITY;
  const maxDepth = limits.maxDepth ?? 64;
  const stack: Array<[unknown, number]> = [[payload, 0]];
  let values = 0;
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (++values > maxValues) return `payload: more than ${maxValues} values`;
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= maxDepth) return `payload: nested deeper than ${maxDepth} levels`;
    const tooMany = (n: number) => values + stack.length + n > maxValues;
    if (Array.isArray(value)) {
      if (tooMany(value.length)) return `payload: more than ${maxValues} values`;
      for (const item of value) stack.push([item, depth + 1]);
      continue;
    }
    const keys = Object.keys(value);
    if (tooMany(keys.length)) return `payload: more than ${maxValues} values`;
    for (const key of keys) {
      if (key === '__proto__') return 'payload: a key named __proto__ is not accepted';
      stack.push([(value as Record<string, unknown>)[key], depth + 1]);
    }
  }
  return undefined;
}
