import { describe, expect, it } from 'vitest';
import { cursorOf, parseCursor } from './DocListCursor.ts';

const row = (over: object) => ({
  org: 'acme',
  name: 'd-abc.1:x',
  owner: 'ann',
  createdAt: 1,
  updatedAt: 1_780_000_000_123,
  policy: { exportAllowed: true },
  ...over,
});

describe('document list cursors', () => {
  it('round-trip for each order (titles in any language, names with dots and colons)', () => {
    for (const title of ['주간 보고 (최종) 📝', 'a.b.c', 'constructor', ' ']) {
      const r = row({ listTitle: title });
      expect(parseCursor('title', cursorOf('title', r))).toEqual({ name: r.name, title });
    }
    expect(parseCursor('updated', cursorOf('updated', row({})))).toEqual({
      name: 'd-abc.1:x',
      updatedAt: 1_780_000_000_123,
    });
    expect(cursorOf('name', row({}))).toBe('d-abc.1:x');
    expect(parseCursor('name', 'anything at all')).toEqual({ name: 'anything at all' });
  });

  it('refuses what it did not make, and a cursor of another order (INVALID_PAYLOAD)', () => {
    const title = cursorOf('title', row({ listTitle: '가' }));
    const updated = cursorOf('updated', row({}));
    for (const [sort, raw] of [
      ['updated', title],
      ['title', updated],
      ['updated', 'u.1e3.a'],
      ['updated', 'u.-1.a'],
      ['updated', 'u.12.'],
      ['updated', 'u.12.../x'],
      ['title', 't.a+b.a'],
      ['title', 't.Zh.a'], // not what base64url of the decoded bytes gives back
      ['title', 't._w.a'], // not UTF-8
      ['title', `t.${'A'.repeat(1400)}.a`],
      ['name', 'a'.repeat(129)],
    ] as const)
      expect(() => parseCursor(sort, raw), `${sort} ${raw.slice(0, 20)}`).toThrow(
        expect.objectContaining({ code: 'INVALID_PAYLOAD' }),
      );
  });
});
