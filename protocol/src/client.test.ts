import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { importsOf } from '../../test/support/architecture.ts';
import * as client from './client.ts';
import * as full from './index.ts';

/** Every module a file reaches through value imports/exports (type imports are erased by bundlers). */
function reachable(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  for (const { spec, typeOnly } of importsOf(file, readFileSync(file, 'utf8'))) {
    if (typeOnly) continue;
    if (spec.startsWith('.')) reachable(path.resolve(path.dirname(file), spec), seen);
    else seen.add(spec);
  }
  return seen;
}

describe('@moim/protocol/client', () => {
  test('reaches no validation library, so browser bundles stay small', () => {
    const mods = reachable(path.join(import.meta.dirname, 'client.ts'));
    expect([...mods].filter((m) => !m.startsWith('/'))).toEqual([]);
    expect(mods.has(path.join(import.meta.dirname, 'constants.ts'))).toBe(true);
  });

  test('exports the same values as the full entry for what it carries', () => {
    for (const [name, value] of Object.entries(client)) {
      expect((full as Record<string, unknown>)[name], name).toBe(value);
    }
    expect(client.DOC_CLOSE.FORBIDDEN.code).toBe(4403);
    expect(client.roomNotesDocName('r1')).toBe('room-r1-notes');
  });
});
