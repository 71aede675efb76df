import { describe, expect, it } from 'vitest';
import { REQUEST_NAMES, requestSchemas } from './events.ts';

describe('requestSchemas', () => {
  it('names every event area:verb and gives each a schema', () => {
    for (const name of REQUEST_NAMES) {
      expect(name).toMatch(/^[a-z]+(:[a-zA-Z-]+)+$/);
      expect(typeof requestSchemas[name].safeParse).toBe('function');
    }
  });
});
