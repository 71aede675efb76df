import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { productionSources, root } from './support/productionSources.ts';
import { findSwallowedErrors, type SwallowedError } from './support/swallowedErrors.ts';

/**
 * No swallowed errors in production code: a rejection handler that does nothing (`.catch(() => {})`,
 * `.then(ok, () => undefined)`) or an empty `catch {}` needs a comment saying why ignoring is
 * right; otherwise the failure is handled, logged with context, or surfaced as an event. Checked on
 * the syntax tree (test/support/swallowedErrors.ts), not with grep.
 */

const where = (found: SwallowedError[]) => found.map((f) => `${f.file}:${f.line} ${f.kind}: ${f.text}`);

describe('no swallowed errors', () => {
  test('the check flags exactly the forbidden shapes of the fixture', () => {
    const file = 'test/fixtures/swallowed-errors.fixture.ts';
    const source = readFileSync(path.join(root, file), 'utf8');
    const marked = source.split('\n').flatMap((line, i) => (line.trimEnd().endsWith('// FORBIDDEN') ? [i + 1] : []));
    expect(marked.length).toBeGreaterThanOrEqual(10);
    const found = findSwallowedErrors(file, source);
    // each finding belongs to the first marker at or below it (a case of several lines ends with its marker)
    const byMarker = found.map((f) => marked.find((m) => m >= f.line));
    expect(byMarker, where(found).join('\n')).toEqual(marked);
    expect(new Set(found.map((f) => f.kind))).toEqual(new Set(['rejection-handler', 'empty-catch-block']));
  });

  test('production code swallows no error without saying why', () => {
    const files = productionSources();
    expect(files.length).toBeGreaterThan(50);
    expect(files.map((f) => f.path)).toContain('client-sdk/src/rooms/Room.ts');
    const found = files.flatMap((f) => findSwallowedErrors(f.path, f.source));
    expect(
      where(found),
      'handle, log with context, or surface these failures as events (or comment why ignoring is right)',
    ).toEqual([]);
  });
});
