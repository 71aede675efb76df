// `npm test` runs this first: when a Debian package the tests need is missing, stop at once with
// one line naming it (never a screen of obscure browser failures). The list is packages.txt.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export function missingTestPackages(): string[] {
  const list = readFileSync(path.join(import.meta.dirname, 'packages.txt'), 'utf8');
  const missing: string[] = [];
  for (const line of list.split('\n')) {
    const [pkg, proof, only] = line.trim().split(/\s+/);
    if (!pkg || pkg.startsWith('#') || !proof || only === 'lint') continue;
    if (!existsSync(proof)) missing.push(pkg);
  }
  return missing;
}

if (import.meta.main) {
  const missing = missingTestPackages();
  if (missing.length > 0) {
    console.error(
      `moim: the tests need Debian packages that are missing; as root run: apt-get install -y --no-install-recommends ${missing.join(' ')} (or npm ci as root)`,
    );
    process.exit(1);
  }
}
