import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The repository's root folder. */
export const root = path.resolve(import.meta.dirname, '../..');

/** Where production code lives, one folder per workspace. */
export const SOURCE_ROOTS = ['protocol/src', 'sfu/src', 'server/src', 'client-sdk/src', 'web-demo/src'];

/** Test helpers that still live in production folders (`testing.ts`, `testPeers.ts`, a `testing/` folder). */
const TEST_HELPER = /(^|\/)(testing\/|testing\.ts$|test[A-Z]\w*\.ts$)/;

/**
 * Every production TypeScript file (not tests, type tests, declarations or test helpers), by path
 * relative to the root with `/` separators, with its text; sorted by path. The source checks
 * (architecture, swallowed errors) walk this one list.
 */
export function productionSources(): { path: string; source: string }[] {
  const out: { path: string; source: string }[] = [];
  for (const dir of SOURCE_ROOTS) {
    for (const entry of readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
      if (entry.name.endsWith('.test.ts') || entry.name.endsWith('.test-d.ts') || entry.name.endsWith('.d.ts'))
        continue;
      const rel = path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/');
      if (rel.includes('/node_modules/') || TEST_HELPER.test(rel)) continue;
      out.push({ path: rel, source: readFileSync(path.join(root, rel), 'utf8') });
    }
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}
