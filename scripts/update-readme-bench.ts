// Copy the latest benchmark tables (bench/results/<name>.md) into the README's performance
// section (npm run docs:bench). Each benchmark's block sits between its own markers.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const file = path.join(root, 'README.md');
let readme = readFileSync(file, 'utf8');
for (const name of ['chat', 'docs', 'sfu', 'presence', 'cluster', 'dashboard', 'cascade']) {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const i = readme.indexOf(start);
  const j = readme.indexOf(end);
  if (i < 0 || j < i) throw new Error(`README.md lacks the ${name} benchmark markers`);
  const results = path.join(root, 'bench/results', `${name}.md`);
  const body = existsSync(results)
    ? readFileSync(results, 'utf8')
        .trim()
        .replace(/^(#{1,4}) /gm, '$1# ')
    : `_No results yet: run \`npm run bench:${name}\`._`;
  readme = `${readme.slice(0, i + start.length)}\n${body}\n${readme.slice(j)}`;
}
writeFileSync(file, readme);
console.log('README benchmark tables updated');
