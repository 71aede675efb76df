import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { sqliteMigrations } from './migrations/index.ts';
import { SqliteAuditStore } from './SqliteAuditStore.ts';
import { SqliteDb } from './SqliteDb.ts';

const file = () => path.join(mkdtempSync(path.join(tmpdir(), 'moim-db-')), 'moim.sqlite');

describe('SqliteDb', () => {
  it('runs durable: WAL journal and synchronous=FULL', () => {
    const db = SqliteDb.open(file());
    expect(db.get<{ journal_mode: string }>('PRAGMA journal_mode')?.journal_mode).toBe('wal');
    expect(db.get<{ synchronous: number }>('PRAGMA synchronous')?.synchronous).toBe(2);
    db.close();
  });

  it('applies migrations once; applying them again (and reopening) is harmless', () => {
    const f = file();
    const db = SqliteDb.open(f);
    const first = db.migrate(sqliteMigrations);
    expect(first.length).toBe(sqliteMigrations.length);
    expect(db.migrate(sqliteMigrations)).toEqual([]);
    db.close();
    const again = SqliteDb.open(f);
    expect(again.migrate(sqliteMigrations)).toEqual([]);
    const ids = again.all<{ id: string }>('SELECT id FROM schema_migrations ORDER BY id').map((r) => r.id);
    expect(ids).toEqual(sqliteMigrations.map((m) => m.id).sort());
    again.close();
  });

  it('rolls a failed migration back entirely', () => {
    const db = SqliteDb.open(file());
    expect(() =>
      db.migrate([{ id: '9999_bad', sql: 'CREATE TABLE t (a INTEGER); INSERT INTO nope VALUES (1);' }]),
    ).toThrow();
    expect(db.get('SELECT name FROM sqlite_master WHERE name = ?', 't')).toBeUndefined();
    expect(db.all('SELECT id FROM schema_migrations')).toEqual([]);
    db.close();
  });

  it('applies pending migrations all or none: one that fails leaves the earlier ones of the batch unapplied', () => {
    const db = SqliteDb.open(file());
    expect(() =>
      db.migrate([
        { id: '9998_good', sql: 'CREATE TABLE good (a INTEGER);' },
        { id: '9999_bad', sql: 'INSERT INTO nope VALUES (1);' },
      ]),
    ).toThrow();
    expect(db.get('SELECT name FROM sqlite_master WHERE name = ?', 'good')).toBeUndefined();
    expect(db.all('SELECT id FROM schema_migrations')).toEqual([]);
    expect(db.migrate([{ id: '9998_good', sql: 'CREATE TABLE good (a INTEGER);' }])).toEqual(['9998_good']);
    expect(db.get<{ name: string }>('SELECT name FROM sqlite_master WHERE name = ?', 'good')?.name).toBe('good');
    db.close();
  });

  it('reads a snapshot while another connection (a worker thread) holds the write lock, without waiting for it', () => {
    const f = file();
    const db = SqliteDb.open(f);
    db.exec('CREATE TABLE t (a INTEGER NOT NULL)');
    db.run('INSERT INTO t (a) VALUES (1)');
    // the append worker's connection in the middle of a group commit
    const writer = new DatabaseSync(f);
    writer.exec('PRAGMA busy_timeout = 0');
    writer.exec('BEGIN IMMEDIATE');
    writer.exec('INSERT INTO t (a) VALUES (2)');
    db.exec('PRAGMA busy_timeout = 0'); // waiting for the lock would fail at once instead of sleeping
    expect(db.read(() => db.all<{ a: number }>('SELECT a FROM t ORDER BY a').map((r) => r.a))).toEqual([1]);
    expect(() => db.tx(() => db.all('SELECT a FROM t'))).toThrow(/locked|busy/i);
    writer.exec('COMMIT');
    expect(db.read(() => db.all<{ a: number }>('SELECT a FROM t ORDER BY a').map((r) => r.a))).toEqual([1, 2]);
    writer.close();
    db.close();
  });

  it('rolls a failed transaction back', () => {
    const db = SqliteDb.open(file());
    db.exec('CREATE TABLE t (a INTEGER NOT NULL)');
    expect(() =>
      db.tx(() => {
        db.run('INSERT INTO t (a) VALUES (1)');
        db.run('INSERT INTO t (a) VALUES (NULL)');
      }),
    ).toThrow();
    expect(db.all('SELECT a FROM t')).toEqual([]);
    db.close();
  });

  it('a full database (SQLITE_FULL) throws STORAGE_FULL, inside a transaction too, and stays usable', async () => {
    const db = SqliteDb.open(file());
    db.exec('CREATE TABLE t (a TEXT NOT NULL)');
    db.run('INSERT INTO t (a) VALUES (?)', 'kept');
    // max_page_count stands in for a full disk: SQLite answers both with SQLITE_FULL
    const pages = db.get<{ page_count: number }>('PRAGMA page_count')!.page_count;
    db.exec(`PRAGMA max_page_count = ${pages + 1}`);
    const big = 'x'.repeat(64 * 1024);
    expect(() => db.run('INSERT INTO t (a) VALUES (?)', big)).toThrow(
      expect.objectContaining({ code: 'STORAGE_FULL' }),
    );
    expect(() =>
      db.tx(() => {
        db.run('INSERT INTO t (a) VALUES (?)', 'small');
        db.run('INSERT INTO t (a) VALUES (?)', big);
      }),
    ).toThrow(expect.objectContaining({ code: 'STORAGE_FULL' }));
    expect(db.all('SELECT a FROM t')).toEqual([{ a: 'kept' }]);
    db.run('INSERT INTO t (a) VALUES (?)', 'after');
    expect(db.all('SELECT a FROM t').length).toBe(2);
    db.close();
  });

  it('creates the database file, its -wal and -shm readable by the owner only, and tightens older ones', () => {
    const f = file();
    writeFileSync(f, '', { mode: 0o644 });
    chmodSync(f, 0o644);
    const db = SqliteDb.open(f);
    db.exec('CREATE TABLE t (a INTEGER)');
    for (const name of [f, `${f}-wal`, `${f}-shm`]) expect((statSync(name).mode & 0o777).toString(8)).toBe('600');
    db.close();
  });
});

describe('audit log', () => {
  it('appends, lists in order, and cannot be changed', async () => {
    const db = SqliteDb.open(file());
    db.migrate(sqliteMigrations);
    const audit = new SqliteAuditStore(db);
    await audit.append({ actor: 'u-1', action: 'room.create', target: 'r-1', detail: { tier: 'standard' } });
    await audit.append({ actor: 'u-2', action: 'doc.delete', target: 'plan' });
    const all = await audit.list({ limit: 10 });
    expect(all.map((e) => e.action)).toEqual(['room.create', 'doc.delete']);
    expect(all[0]?.detail).toEqual({ tier: 'standard' });
    expect(await audit.list({ actor: 'u-2', limit: 10 })).toHaveLength(1);
    expect(() => db.run('UPDATE audit_log SET actor = ?', 'x')).toThrow(/append-only/);
    expect(() => db.run('DELETE FROM audit_log')).toThrow(/append-only/);
    db.close();
  });

  it('commits a wave of appends in batches, each with its own id in order, all on disk', async () => {
    const f = file();
    const db = SqliteDb.open(f);
    db.migrate(sqliteMigrations);
    const audit = new SqliteAuditStore(db);
    const stored = await Promise.all(
      Array.from({ length: 1200 }, (_, i) => audit.append({ actor: `u-${i}`, action: 'auth.sign-in' })),
    );
    expect(stored.map((e) => e.actor)).toEqual(Array.from({ length: 1200 }, (_, i) => `u-${i}`));
    expect(new Set(stored.map((e) => e.id)).size).toBe(1200);
    expect(stored.every((e, i) => i === 0 || e.id > (stored[i - 1]?.id ?? 0))).toBe(true);
    db.close();
    const again = SqliteDb.open(f);
    expect(again.get<{ n: number }>('SELECT count(*) AS n FROM audit_log')?.n).toBe(1200);
    again.close();
  });

  it('fails the appends of a batch whose commit fails', async () => {
    const db = SqliteDb.open(file());
    db.migrate(sqliteMigrations);
    const audit = new SqliteAuditStore(db);
    db.close();
    await expect(audit.append({ actor: 'u-1', action: 'doc.delete' })).rejects.toThrow();
  });
});
