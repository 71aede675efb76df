import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PresenceRecord } from '../PresenceStore.ts';
import { sqliteMigrations } from './migrations/index.ts';
import { SqliteDb } from './SqliteDb.ts';
import { SqlitePresenceStore } from './SqlitePresenceStore.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function open(dir?: string): { db: SqliteDb; dir: string } {
  const d = dir ?? mkdtempSync(path.join(tmpdir(), 'moim-presence-'));
  if (!dir) dirs.push(d);
  const db = SqliteDb.open(path.join(d, 'moim.sqlite'));
  db.migrate(sqliteMigrations);
  return { db, dir: d };
}
const person = (i: number, lastSeen: number): PresenceRecord => ({
  sub: `p${i}`,
  org: 'acme',
  name: `Person ${i}`,
  site: 'hq',
  teams: ['ops'],
  status: null,
  busy: false,
  lastSeen,
});

describe('SqlitePresenceStore group commit', () => {
  it('commits a wave of saves (more than one batch) and keeps the latest record of each person', async () => {
    const { db, dir } = open();
    const store = new SqlitePresenceStore(db);
    const saves: Promise<void>[] = [];
    // 700 people, each saved three times in one turn (connect, status, activity)
    for (let round = 1; round <= 3; round++) for (let i = 0; i < 700; i++) saves.push(store.save(person(i, round)));
    await Promise.all(saves);
    db.close();
    // durable: a fresh connection reads them
    const again = open(dir).db;
    const read = await new SqlitePresenceStore(again).get(
      'acme',
      Array.from({ length: 700 }, (_, i) => `p${i}`),
    );
    expect(read).toHaveLength(700);
    expect(read.every((r) => r.lastSeen === 3)).toBe(true);
    again.close();
  });

  it('a read sees a save made before it, even before its commit turn', async () => {
    const { db } = open();
    const store = new SqlitePresenceStore(db);
    const saved = store.save({ ...person(1, 42), status: 'in a meeting' });
    const [r] = await store.get('acme', ['p1']);
    expect(r?.status).toBe('in a meeting');
    await saved;
    db.close();
  });

  it('fails every save of a batch whose commit fails', async () => {
    const { db } = open();
    const store = new SqlitePresenceStore(db);
    db.close();
    const results = await Promise.allSettled([store.save(person(1, 1)), store.save(person(2, 1))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
