/**
 * One PostgreSQL database for a node (`pg`, pure JS): a `Pool` with an `error` handler (an idle
 * client that loses its server is dropped and logged, never an uncaught exception), queries,
 * transactions that retry on serialization failures and deadlocks, and forward-only migrations
 * applied once across nodes under an advisory lock. Errors are translated once, here: a lost or
 * refused connection (PostgreSQL restarting, unreachable) is `StoreUnavailableError`, a full disk
 * STORAGE_FULL; nothing is retried that might have committed.
 *
 * `schema` puts every table of this node in its own schema (`search_path`), so test runs and
 * deployments sharing a database stay apart.
 */
import pg from 'pg';
import type { Logger } from '../../logger.ts';
import { StoreClosedError, StoreUnavailableError, storageError } from '../storageErrors.ts';

export interface PgMigration {
  /** Sortable unique id, e.g. `0100_chat`. Never renamed or edited once released. */
  id: string;
  sql: string;
}

export interface PgDbOptions {
  /** `postgres://user@host:port/db` */
  url: string;
  /** Schema for every table (created when missing). @default 'public' */
  schema?: string | undefined;
  /** Pool size. @default 10 */
  max?: number | undefined;
  log?: Logger | undefined;
}

/** What a transaction body gets: queries on the transaction's own connection. */
export interface PgTx {
  query<T extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  one<T extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T | undefined>;
}

/** SQLSTATEs: the transaction can be run again from the start (nothing of it committed). */
const RETRYABLE = new Set(['40001', '40P01']);
/** SQLSTATE classes and codes meaning the server is gone or refusing for now. */
const UNAVAILABLE_CLASSES = ['08', '57'];
const UNAVAILABLE_CODES = new Set(['53300']);
const CONNECTION_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']);
const DISK_FULL = '53100';
const TX_ATTEMPTS = 5;

/** Tables live in the schema; a name that is not a plain identifier is refused. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export class PgDb {
  readonly pool: pg.Pool;
  readonly schema: string;
  readonly #log: Logger | undefined;
  /** Connections that hold session locks (holdLock), released on close. */
  readonly #held: pg.PoolClient[] = [];
  #closed = false;

  private constructor(pool: pg.Pool, schema: string, log: Logger | undefined) {
    this.pool = pool;
    this.schema = schema;
    this.#log = log;
  }

  /** Connect (the pool connects lazily; the schema is created here, so a wrong URL fails now). */
  static async open(opts: PgDbOptions): Promise<PgDb> {
    const schema = opts.schema ?? 'public';
    if (!SCHEMA_NAME.test(schema)) throw new Error(`PostgreSQL schema name ${JSON.stringify(schema)} is not allowed`);
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.max ?? 10,
      options: `-c search_path=${schema}`,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30_000,
    });
    const db = new PgDb(pool, schema, opts.log);
    pool.on('error', (err) => {
      // an idle client lost its connection (PostgreSQL restarted): the pool drops it and opens another
      db.#log?.warn({ err }, 'postgres: idle connection lost');
    });
    try {
      await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    } catch (err) {
      // two nodes creating the schema at once: one wins, the other sees a duplicate — both fine
      if (!isUniqueViolation(err) && (err as { code?: unknown }).code !== '42P06') {
        await pool.end();
        throw translate(err);
      }
    }
    return db;
  }

  get closed(): boolean {
    return this.#closed;
  }

  async query<T extends object = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    this.#open();
    try {
      return (await this.pool.query<T>(sql, params as unknown[])).rows;
    } catch (err) {
      throw translate(err);
    }
  }

  async one<T extends object = Record<string, unknown>>(
    sql: string,
    params: readonly unknown[] = [],
  ): Promise<T | undefined> {
    return (await this.query<T>(sql, params))[0];
  }

  /**
   * Run `fn` in one transaction on one connection: COMMIT when it resolves, ROLLBACK when it
   * throws. A serialization failure or deadlock runs it again (up to 5 times): `fn` must have no
   * effect outside the database. Resolves only after COMMIT returned.
   */
  async tx<T>(fn: (tx: PgTx) => Promise<T>, opts: { isolation?: 'serializable' } = {}): Promise<T> {
    this.#open();
    for (let attempt = 1; ; attempt++) {
      const { client, lost } = await this.#checkout();
      let broken: Error | undefined;
      try {
        await client.query(opts.isolation === 'serializable' ? 'BEGIN ISOLATION LEVEL SERIALIZABLE' : 'BEGIN');
        const result = await fn(txOf(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          // the connection is gone: the server rolled back; this client must not go back to the pool
          broken = rollbackErr as Error;
        }
        const code = (err as { code?: unknown }).code;
        if (typeof code === 'string' && RETRYABLE.has(code) && attempt < TX_ATTEMPTS) {
          this.#log?.debug({ code, attempt }, 'postgres: transaction retried');
          continue;
        }
        throw translate(err);
      } finally {
        client.release(broken ?? lost());
      }
    }
  }

  /**
   * Apply the migrations not yet applied, in id order, each in its own transaction, under an
   * advisory lock so nodes starting together apply each once. Returns the ids applied.
   */
  async migrate(migrations: readonly PgMigration[]): Promise<string[]> {
    this.#open();
    const { client, lost } = await this.#checkout();
    const applied: string[] = [];
    let failed: Error | undefined;
    try {
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [`moim-migrate:${this.schema}`]);
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)',
      );
      const done = new Set(
        (await client.query<{ id: string }>('SELECT id FROM schema_migrations')).rows.map((r) => r.id),
      );
      for (const m of [...migrations].sort((a, b) => a.id.localeCompare(b.id))) {
        if (done.has(m.id)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (id, applied_at) VALUES ($1, $2)', [m.id, Date.now()]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw new Error(`postgres migration ${m.id} failed: ${(err as Error).message}`, { cause: err });
        }
        applied.push(m.id);
      }
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`moim-migrate:${this.schema}`]);
    } catch (err) {
      failed = err as Error;
      throw translate(err);
    } finally {
      // after a failure the connection is closed, not pooled: that also releases the advisory lock
      client.release(failed ?? lost());
    }
    return applied;
  }

  /**
   * Hold a session advisory lock named `name` on a connection of its own for as long as this
   * database is open; false when another session (another node) holds it. The lock goes with the
   * connection, so a node killed with SIGKILL cannot leave it stuck.
   */
  async holdLock(name: string): Promise<boolean> {
    this.#open();
    const { client, lost } = await this.#checkout();
    try {
      const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [name]);
      if (!r.rows[0]?.ok) {
        client.release(lost());
        return false;
      }
    } catch (err) {
      lost();
      client.release(err as Error);
      throw translate(err);
    }
    lost();
    client.on('error', (err) =>
      this.#log?.error({ err, lock: name }, 'postgres: the connection holding a lock was lost'),
    );
    this.#held.push(client);
    return true;
  }

  /** True when a query gets an answer (readiness). */
  async ping(): Promise<boolean> {
    try {
      await this.pool.query('SELECT 1');
      return true;
    } catch (err) {
      this.#log?.warn({ err }, 'postgres: ping failed');
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // destroying the connection ends its session, which releases its advisory locks
    for (const client of this.#held.splice(0)) client.release(true);
    await this.pool.end();
  }

  /**
   * A connection of the pool for a transaction or a session, with an `error` listener for as long
   * as it is checked out. pg-pool listens for `error` only on idle clients, and a client emits
   * `error` ("Connection terminated unexpectedly") when its server goes away, also after the
   * running query already failed (PostgreSQL's fast shutdown sends 57P01, then closes the socket):
   * without a listener that event is an uncaught exception and the node exits. The loss is only
   * recorded (the client's queries fail and are translated as usual); `lost()` returns it, so the
   * caller releases the client as broken and the pool never hands it out again. `lost()` also
   * removes the listener: call it right before `release` (the pool's idle listener takes over) or
   * before attaching a listener of one's own.
   */
  async #checkout(): Promise<{ client: pg.PoolClient; lost: () => Error | undefined }> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw translate(err);
    }
    let lostWith: Error | undefined;
    const onError = (err: Error) => {
      lostWith ??= err;
      this.#log?.warn({ err }, 'postgres: connection lost while in use');
    };
    client.on('error', onError);
    return {
      client,
      lost: () => {
        client.off('error', onError);
        return lostWith;
      },
    };
  }

  #open(): void {
    if (this.#closed) throw new StoreClosedError('postgres database');
  }
}

function txOf(client: pg.PoolClient): PgTx {
  const query = async <T extends object>(sql: string, params: readonly unknown[] = []): Promise<T[]> =>
    (await client.query<T>(sql, params as unknown[])).rows;
  const one = async <T extends object>(sql: string, params?: readonly unknown[]): Promise<T | undefined> =>
    (await query<T>(sql, params))[0];
  return { query, one };
}

/**
 * The error a PostgreSQL store throws: StoreUnavailableError when the server is gone or refusing
 * for now, STORAGE_FULL when its disk is full, the error itself otherwise (a bug, a constraint).
 */
export function translate(err: unknown): unknown {
  if (err instanceof StoreUnavailableError || err instanceof StoreClosedError) return err;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (code === DISK_FULL) return storageError(Object.assign(new Error(String(e.message)), { code: 'ENOSPC' }));
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (
    (code && (UNAVAILABLE_CODES.has(code) || UNAVAILABLE_CLASSES.includes(code.slice(0, 2)))) ||
    (code && CONNECTION_ERRNOS.has(code)) ||
    /Connection terminated|connection timeout|Client has encountered a connection error|Cannot use a pool after calling end/i.test(
      message,
    )
  )
    return new StoreUnavailableError(`postgres unavailable: ${message}`, { cause: err });
  return err;
}

/** True for a unique-constraint violation (SQLSTATE 23505), optionally of one constraint. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: unknown; constraint?: unknown };
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
}
