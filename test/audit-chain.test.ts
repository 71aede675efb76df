/**
 * The audit chain against a real server's SQLite file and the real verifier process
 * (`scripts/audit-verify.ts`): an intact chain passes; an edited row, a row edited and rehashed, a
 * deleted row and a cut tail (rows, head and database anchors rolled back together) are each
 * named; the admin CSV export is the caller's org, UTF-8 with BOM and formula-escaped.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { rowHash } from '../server/src/storage/auditChain.ts';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';

const root = path.resolve(import.meta.dirname, '..');
const node = process.execPath;

function verify(dataDir: string): { code: number | null; out: string } {
  const r = spawnSync(node, [path.join(root, 'scripts/audit-verify.ts')], {
    cwd: root,
    env: { ...process.env, MOIM_ENV: 'test', MOIM_DATA_DIR: dataDir, MOIM_LOG_LEVEL: 'silent' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** What an intruder with the database file does: lift the triggers, then write. */
function tamper(dataDir: string, sql: (db: DatabaseSync) => void): void {
  const db = new DatabaseSync(path.join(dataDir, 'moim.sqlite'));
  db.exec('DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;');
  db.exec('DROP TRIGGER IF EXISTS audit_anchors_no_delete;');
  sql(db);
  db.close();
}

let dataDir: string | undefined;
let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

/** A server with 6 audited sign-ins (seq 1–6) anchored, then closed (its file left for the verifier). */
async function chainOfSix(): Promise<string> {
  dataDir = mkdtempSync(path.join(tmpdir(), 'moim-audit-'));
  const s = await startTestServer({}, { dataDir });
  for (let i = 1; i <= 6; i++) await s.token({ name: `P${i}`, sub: `p${i}`, org: 'acme' });
  expect(await s.app.auditAnchors.anchorNow()).toBe(6);
  await s.close();
  return dataDir;
}

describe('audit chain', () => {
  it('each row carries the hash of the one before, and the verifier passes an intact chain', async () => {
    const dir = await chainOfSix();
    const db = new DatabaseSync(path.join(dir, 'moim.sqlite'), { readOnly: true });
    const rows = db.prepare('SELECT * FROM audit_log ORDER BY seq').all() as Array<
      Record<string, string | number | null>
    >;
    db.close();
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prev_hash).toBe(rows[i - 1]!.hash);
    expect(rows[0]!.org).toBe('acme');
    const r = verify(dir);
    expect(r.out).toContain('OK');
    expect(r.code).toBe(0);
  });

  it('names the first altered row, also when the intruder rehashed it', async () => {
    const dir = await chainOfSix();
    tamper(dir, (db) => db.exec(`UPDATE audit_log SET actor = 'someone-else' WHERE seq = 3`));
    let r = verify(dir);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/\[altered\] row seq 3 \(id \d+, auth\.dev-token\) was altered/);
    // now make row 3 self-consistent: the next row's link still holds the original hash
    tamper(dir, (db) => {
      const row = db.prepare('SELECT * FROM audit_log WHERE seq = 3').get() as Record<string, string | number | null>;
      const hash = rowHash({
        seq: 3,
        at: Number(row.at),
        org: row.org as string | null,
        actor: String(row.actor),
        action: String(row.action),
        target: row.target as string | null,
        detail: row.detail as string | null,
        prevHash: String(row.prev_hash),
      });
      db.prepare('UPDATE audit_log SET hash = ? WHERE seq = 3').run(hash);
    });
    r = verify(dir);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/\[rehashed\] row seq 3 .* was altered and rehashed/);
    expect(r.out).toMatch(/first altered row: seq 3/);
  });

  it('finds a deleted row, and a cut tail even when the head and the database anchors were cut with it', async () => {
    const dir = await chainOfSix();
    tamper(dir, (db) => db.exec('DELETE FROM audit_log WHERE seq = 2'));
    let r = verify(dir);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/\[missing\] row seq 2 is missing/);

    const dir2 = await chainOfSix();
    tamper(dir2, (db) => {
      const h = db.prepare('SELECT hash FROM audit_log WHERE seq = 4').get() as { hash: string };
      db.exec('DELETE FROM audit_log WHERE seq > 4; DELETE FROM audit_anchors;');
      db.prepare('UPDATE audit_head SET seq = 4, hash = ? WHERE id = 1').run(h.hash);
    });
    r = verify(dir2);
    expect(r.code).toBe(1);
    // the anchor file outside the database still names seq 6
    expect(r.out).toMatch(/\[cut-tail\] .*names seq 6, but the chain ends at seq 4/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an anchor not signed by the audit key', async () => {
    const dir = await chainOfSix();
    const file = path.join(dir, 'audit-anchors.jsonl');
    const line = JSON.parse(readFileSync(file, 'utf8').trim().split('\n')[0]!) as Record<string, unknown>;
    tamper(dir, (db) =>
      db
        .prepare('INSERT INTO audit_anchors (at, seq, hash, key_id, signature) VALUES (?, ?, ?, ?, ?)')
        .run(Number(line.at) + 1, 6, String(line.hash), String(line.keyId), String(line.signature)),
    );
    const r = verify(dir);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/\[anchor-forged\] anchor of seq 6: the signature is not valid/);
  });
});

describe('admin CSV export', () => {
  it('exports the admin’s org only, UTF-8 with BOM, formula cells escaped, and audits the export', async () => {
    server = await startTestServer();
    await server.token({ name: '=HYPERLINK("x")', sub: '=cmd', org: 'acme' });
    await server.token({ name: 'Other', sub: 'other', org: 'globex' });
    const admin = await server.token({ name: 'Admin', sub: 'adm', org: 'acme', role: 'admin' });
    const member = await server.token({ name: 'M', sub: 'mem', org: 'acme' });
    const refused = await fetch(`${server.url}/admin/audit.csv`, { headers: { authorization: `Bearer ${member}` } });
    expect(refused.status).toBe(403);
    const res = await fetch(`${server.url}/admin/audit.csv`, { headers: { authorization: `Bearer ${admin}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.toString('utf8');
    const lines = text.slice(1).trim().split('\r\n');
    expect(lines[0]).toBe('seq,id,at,time,actor,action,target,detail,prev_hash,hash');
    expect(text).toContain(`'=cmd`);
    expect(text).not.toMatch(/,=cmd/);
    expect(text).not.toContain('globex');
    const log = await server.app.stores.audit.chain({ org: 'acme', limit: 100 });
    expect(log.filter((r) => r.action === 'audit.export').map((r) => r.actor)).toEqual(['adm']);
  });
});

describe('sign-in failures', () => {
  it('a refused token at the handshake is audited, at most the configured count per address a minute', async () => {
    server = await startTestServer({ MOIM_AUDIT_REFUSALS_PER_ADDRESS_PER_MIN: '2' });
    for (let i = 0; i < 5; i++)
      await expect(server.connect('not-a-token')).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    await expect
      .poll(async () => (await server!.app.stores.audit.list({ action: 'auth.refused', limit: 100 })).length)
      .toBe(2);
    const [first] = await server.app.stores.audit.list({ action: 'auth.refused', limit: 1 });
    expect(first).toMatchObject({ actor: 'anonymous', detail: { code: 'TOKEN_INVALID', via: 'socket.io' } });
  });

  it('a refused Bearer token on HTTP is audited too', async () => {
    server = await startTestServer();
    const res = await fetch(`${server.url}/docs`, { headers: { authorization: 'Bearer forged' } });
    expect(res.status).toBe(401);
    await expect
      .poll(async () =>
        (await server!.app.stores.audit.list({ action: 'auth.refused', limit: 10 })).map((e) => e.detail),
      )
      .toEqual([expect.objectContaining({ code: 'TOKEN_INVALID', via: 'http' })]);
  });
});

describe('audit:verify on PostgreSQL', () => {
  it('verifies a chain two nodes wrote, and names a row edited in the database', async () => {
    const { PgDb } = await import('../server/src/storage/postgres/PgDb.ts');
    const { PgAuditStore } = await import('../server/src/storage/postgres/PgAuditStore.ts');
    const { pgMigrations } = await import('../server/src/storage/postgres/migrations/index.ts');
    const { TEST_DATABASE_URL, dropSchema, uniqueSchema } = await import('../server/src/storage/contract/backends.ts');
    const schema = uniqueSchema('auditv');
    dataDir = mkdtempSync(path.join(tmpdir(), 'moim-audit-pg-'));
    const nodes = [
      await PgDb.open({ url: TEST_DATABASE_URL, schema }),
      await PgDb.open({ url: TEST_DATABASE_URL, schema }),
    ];
    try {
      await nodes[0]!.migrate(pgMigrations);
      const stores = nodes.map((db) => new PgAuditStore(db));
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => stores[i % 2]!.append({ actor: `p${i}`, action: 'x', org: 'acme' })),
      );
      const env = { DATABASE_URL: TEST_DATABASE_URL, MOIM_DATABASE_SCHEMA: schema };
      const run = () =>
        spawnSync(node, [path.join(root, 'scripts/audit-verify.ts')], {
          cwd: root,
          env: { ...process.env, MOIM_ENV: 'test', MOIM_DATA_DIR: dataDir!, ...env },
          encoding: 'utf8',
          timeout: 30_000,
        });
      // the verifier needs the key file; the database has no anchors yet: the chain alone is checked
      const { loadAuditKey, defaultAuditKeyFile } = await import('../server/src/audit/auditKey.ts');
      loadAuditKey(defaultAuditKeyFile(dataDir), { create: true });
      let r = run();
      expect(`${r.stdout}${r.stderr}`).toContain('20 rows');
      expect(r.status).toBe(0);
      await nodes[0]!.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change');
      await nodes[0]!.query(`UPDATE audit_log SET detail = '{"x":1}' WHERE seq = 7`);
      r = run();
      expect(r.status).toBe(1);
      expect(r.stdout).toMatch(/\[altered\] row seq 7 /);
    } finally {
      await Promise.all(nodes.map((db) => db.close()));
      await dropSchema(schema);
    }
  });
});

describe('configuration', () => {
  it('a cluster without a shared audit key is warned about at start', async () => {
    const { configWarnings, loadConfig } = await import('../server/src/config.ts');
    const base = {
      MOIM_ENV: 'test',
      MOIM_JWT_SECRET: 'q8Jd2LmX0vTz4PwR7nYc5KbA1sHe3UgF9oIi6VtN',
      DATABASE_URL: 'postgres://x@127.0.0.1/db',
      REDIS_URL: 'redis://127.0.0.1:6379',
    };
    expect(configWarnings(loadConfig(base)).join('\n')).toMatch(/MOIM_AUDIT_KEY_FILE/);
    expect(configWarnings(loadConfig({ ...base, MOIM_AUDIT_KEY_FILE: '/etc/moim/audit.pem' })).join('\n')).not.toMatch(
      /MOIM_AUDIT_KEY_FILE/,
    );
  });
});
