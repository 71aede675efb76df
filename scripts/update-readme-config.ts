// Regenerate the README configuration table from server/src/config.ts (npm run docs:config).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { configTableMarkdown } from '../server/src/config.ts';

const file = path.resolve(import.meta.dirname, '../README.md');
const readme = readFileSync(file, 'utf8');
const start = '<!-- config:start -->';
const end = '<!-- config:end -->';
const i = readme.indexOf(start);
const j = readme.indexOf(end);
if (i < 0 || j < i) throw new Error('README.md lacks the config markers');
writeFileSync(file, `${readme.slice(0, i + start.length)}\n${configTableMarkdown()}\n${readme.slice(j)}`);
console.log('README configuration table updated');
