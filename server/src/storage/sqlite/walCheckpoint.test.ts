import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { walCheckpointer } from './walCheckpoint.ts';

/** A WAL database whose automatic checkpoint is off: only walCheckpointer copies pages back. */
function walDb(): { db: DatabaseSync; file: string } {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'moim-wal-')), 'moim.sqlite');
  const db = new DatabaseSync(file);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; CREATE TABLE t (data BLOB)');
  return { db, file };
}

describe('walCheckpointer', () => {
  it('copies the WAL into the database every `every` commits, not before', () => {
    const { db, file } = walDb();
    const checkpoint = walCheckpointer(db, 3);
    const commit = () => db.exec('INSERT INTO t VALUES (randomblob(100000))');
    commit();
    expect(checkpoint()).toBeUndefined();
    commit();
    expect(checkpoint()).toBeUndefined();
    // two commits of 100 kB each are in the WAL only
    expect(statSync(file).size).toBeLessThan(100_000);
    commit();
    expect(checkpoint()).toBeUndefined();
    expect(statSync(file).size).toBeGreaterThan(300_000);
    db.close();
  });

  it('says why a checkpoint failed, and the next one tries again', () => {
    const { db } = walDb();
    const checkpoint = walCheckpointer(db, 2);
    db.close();
    expect(checkpoint()).toBeUndefined();
    expect(checkpoint()).toMatch(/^WAL checkpoint failed \(the next one retries\): .*not open/);
    expect(checkpoint()).toBeUndefined();
    expect(checkpoint()).toMatch(/^WAL checkpoint failed/);
  });
});
