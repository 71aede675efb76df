import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { storageError } from '../storageErrors.ts';

export interface Migration {
  /** Sortable unique id, e.g. `0001_core`. Never renamed or edited once released. */
  id: string;
  sql: string;
}

export type SqlValue = SQLInputValue;

/**
 * One SQLite database (node:sqlite, no native addon). WAL with `synchronous=FULL`: a statement
 * that returned is committed and durable. node:sqlite is synchronous, so a transaction body is a
 * synchronous function and nothing can interleave with it on this connection. The file and its
 * `-wal`/`-shm` are readable by their owner only (0600), like every data file. A write on a full
 * disk (SQLITE_FULL) throws STORAGE_FULL.
 */
export class SqliteDb {
  readonly #db: DatabaseSync;
  /** The database file (absolute), or undefined for `:memory:`. */
  readonly file: string | undefined;
  readonly #statements = new Map<string, StatementSync>();
  #closed = false;

  private constructor(db: DatabaseSync, file: string | undefined) {
    this.#db = db;
    this.file = file;
  }

  /** Open (creating folders) and apply pragmas. `file` may be `:memory:`. */
  static open(file: string): SqliteDb {
    if (file !== ':memory:') {
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      // create it 0600 before SQLite does (SQLite would use 0644 less the umask): SQLite then
      // gives the -wal and -shm files the database file's mode; older installs are tightened here
      closeSync(openSync(file, 'a', 0o600));
      chmodOwnerOnly(file);
    }
    const db = new DatabaseSync(file);
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = FULL');
    db.exec('PRAGMA foreign_keys = ON');
    db.exec('PRAGMA busy_timeout = 5000');
    if (file !== ':memory:') for (const suffix of ['-wal', '-shm']) chmodOwnerOnly(file + suffix);
    return new SqliteDb(db, file === ':memory:' ? undefined : path.resolve(file));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** A cached prepared statement. */
  stmt(sql: string): StatementSync {
    let s = this.#statements.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }

  exec(sql: string): void {
    try {
      this.#db.exec(sql);
    } catch (err) {
      throw storageError(err);
    }
  }

  run(sql: string, ...params: SqlValue[]): { changes: number; lastInsertRowid: number } {
    let r: ReturnType<StatementSync['run']>;
    try {
      r = this.stmt(sql).run(...params);
    } catch (err) {
      throw storageError(err);
    }
    return { changes: Number(r.changes), lastInsertRowid: Number(r.lastInsertRowid) };
  }

  get<T>(sql: string, ...params: SqlValue[]): T | undefined {
    return this.stmt(sql).get(...params) as T | undefined;
  }

  all<T>(sql: string, ...params: SqlValue[]): T[] {
    return this.stmt(sql).all(...params) as T[];
  }

  /** Run `fn` in one transaction (BEGIN IMMEDIATE … COMMIT, rolled back if it throws). */
  tx<T>(fn: () => T): T {
    return this.#transaction('BEGIN IMMEDIATE', fn);
  }

  /**
   * Run `fn`, which only reads, on one snapshot of the database (BEGIN DEFERRED … COMMIT): with WAL
   * a reader neither waits for a writer nor blocks one. `tx` (BEGIN IMMEDIATE) would take the write
   * lock and, while a worker thread's connection commits, wait for it in SQLite's busy handler,
   * which sleeps on this thread (the event loop).
   */
  read<T>(fn: () => T): T {
    return this.#transaction('BEGIN DEFERRED', fn);
  }

  #transaction<T>(begin: 'BEGIN IMMEDIATE' | 'BEGIN DEFERRED', fn: () => T): T {
    this.exec(begin);
    try {
      const result = fn();
      this.#db.exec('COMMIT');
      return result;
    } catch (err) {
      // SQLite may already have rolled back (a full disk does that): ROLLBACK would then throw
      // "no transaction is active" and hide the real error
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw storageError(err);
    }
  }

  /**
   * Apply the migrations not yet applied, in id order, all in one transaction (all or none: a
   * failing one leaves the database as it was). Returns the ids applied. One commit, not one per
   * migration: on a new database each commit is an fsync of the WAL, and two dozen of them were
   * most of a fresh process's time to ready.
   */
  migrate(migrations: readonly Migration[]): string[] {
    this.#db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const done = new Set(this.all<{ id: string }>('SELECT id FROM schema_migrations').map((r) => r.id));
    const pending = [...migrations].sort((a, b) => a.id.localeCompare(b.id)).filter((m) => !done.has(m.id));
    if (pending.length === 0) return [];
    this.tx(() => {
      for (const m of pending) {
        this.#db.exec(m.sql);
        this.run('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)', m.id, Date.now());
      }
    });
    return pending.map((m) => m.id);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#statements.clear();
    this.#db.close();
  }
}

/** chmod 0600 if the file exists. */
function chmodOwnerOnly(file: string): void {
  try {
    chmodSync(file, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
