/**
 * The ApprovalStore written once for both SQL backends. Each operation is a generator that yields
 * its statements one at a time (`?` placeholders, written so both SQLite and PostgreSQL accept
 * them; writes use RETURNING so every statement answers rows) and receives their rows: the SQLite
 * store drives it synchronously inside one `BEGIN IMMEDIATE` transaction, the PostgreSQL store
 * asynchronously inside one transaction (PgDb retries it whole on a serialization failure, so a
 * generator has no effect outside the database). Statements marked `pgOnly` (advisory locks, row
 * locks) are skipped on SQLite, whose write transactions are serialized anyway.
 */
import { MoimError, type RequestDayStatus } from '@moim/protocol';
import {
  type ApprovalListQuery,
  type ApprovalStore,
  type DecisionChange,
  type DueStep,
  type EscalationChange,
  type QuotaWindow,
  type StoredApproval,
  type StoredComment,
  type StoredDelegation,
  type StoredRequestDay,
  type StoredStep,
  waitingStep,
} from './ApprovalStore.ts';

export type Row = Record<string, unknown>;
export interface SqlOp {
  sql: string;
  params: readonly (string | number | null)[];
  /** Only on PostgreSQL (locks). */
  pgOnly?: boolean;
}
export type SqlSteps<T> = Generator<SqlOp, T, Row[]>;

const op = (sql: string, ...params: (string | number | null)[]): SqlOp => ({ sql, params });
const pgOp = (sql: string, ...params: (string | number | null)[]): SqlOp => ({ sql, params, pgOnly: true });

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown): string => String(v);
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** SQLite's and PostgreSQL's unique-constraint refusals. */
export const isUniqueError = (err: unknown): boolean => {
  const e = err as { code?: unknown; message?: unknown };
  return e?.code === '23505' || (typeof e?.message === 'string' && /UNIQUE constraint failed/.test(e.message));
};

const DOC_COLUMNS =
  'org, id, kind, applicant, title, body, payload, status, version, created_at, updated_at, submitted_at, decided_at';
const STEP_COLUMNS =
  'doc_id, idx, approver, status, decided_by, on_behalf_of, decided_at, comment, due_at, escalated_from';
const DAY_COLUMNS = 'request_id, sub, day, type, site_id, place_id, status, priority, requested_at';
/** The queue order of a site's day: priority first, then request time. */
const QUEUE_ORDER = 'priority DESC, requested_at, request_id';

function toDoc(r: Row, steps: StoredStep[], comments: StoredComment[]): StoredApproval {
  return {
    org: str(r.org),
    id: str(r.id),
    kind: r.kind as StoredApproval['kind'],
    applicant: str(r.applicant),
    title: str(r.title),
    body: str(r.body),
    payload: JSON.parse(str(r.payload)) as unknown,
    status: r.status as StoredApproval['status'],
    steps,
    comments,
    version: num(r.version),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    submittedAt: numOrNull(r.submitted_at),
    decidedAt: numOrNull(r.decided_at),
  };
}

const toStep = (r: Row): StoredStep => ({
  approver: str(r.approver),
  status: r.status as StoredStep['status'],
  decidedBy: strOrNull(r.decided_by),
  onBehalfOf: strOrNull(r.on_behalf_of),
  decidedAt: numOrNull(r.decided_at),
  comment: strOrNull(r.comment),
  dueAt: numOrNull(r.due_at),
  escalatedFrom: strOrNull(r.escalated_from),
});

const toDelegation = (r: Row): StoredDelegation => ({
  from: str(r.delegator),
  to: str(r.delegate),
  fromDay: str(r.from_day),
  untilDay: str(r.until_day),
  startsAt: num(r.starts_at),
  endsAt: num(r.ends_at),
});

const toDay = (r: Row): StoredRequestDay => ({
  requestId: str(r.request_id),
  sub: str(r.sub),
  day: str(r.day),
  type: str(r.type),
  siteId: str(r.site_id),
  placeId: strOrNull(r.place_id),
  status: r.status as RequestDayStatus,
  priority: num(r.priority),
  requestedAt: num(r.requested_at),
});

const marks = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

function* insertSteps(org: string, id: string, approvers: readonly StoredStep[]): SqlSteps<void> {
  for (const [idx, s] of approvers.entries())
    yield op(
      `INSERT INTO approval_steps (org, ${STEP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING idx`,
      org,
      id,
      idx,
      s.approver,
      s.status,
      s.decidedBy,
      s.onBehalfOf,
      s.decidedAt,
      s.comment,
      s.dueAt,
      s.escalatedFrom,
    );
}

function* loadSteps(org: string, ids: readonly string[]): SqlSteps<Map<string, StoredStep[]>> {
  const out = new Map<string, StoredStep[]>();
  if (ids.length === 0) return out;
  const rows = yield op(
    `SELECT ${STEP_COLUMNS} FROM approval_steps WHERE org = ? AND doc_id IN (${marks(ids.length)}) ORDER BY doc_id, idx`,
    org,
    ...ids,
  );
  for (const r of rows) {
    const id = str(r.doc_id);
    let list = out.get(id);
    if (!list) {
      list = [];
      out.set(id, list);
    }
    list.push(toStep(r));
  }
  return out;
}

/** Bump the version of a document in one of `statuses` at `version`; false when it is not. */
function* bump(
  org: string,
  id: string,
  version: number,
  statuses: readonly string[],
  set: string,
  setParams: (string | number | null)[],
  at: number,
): SqlSteps<boolean> {
  const rows = yield op(
    `UPDATE approval_docs SET version = version + 1, updated_at = ?${set ? `, ${set}` : ''}
     WHERE org = ? AND id = ? AND version = ? AND status IN (${marks(statuses.length)}) RETURNING version`,
    at,
    ...setParams,
    org,
    id,
    version,
    ...statuses,
  );
  return rows.length > 0;
}

/** Thrown inside a transaction to roll it back and answer false. */
class Rollback extends Error {}

export const ops = {
  *create(doc: StoredApproval): SqlSteps<void> {
    try {
      yield op(
        `INSERT INTO approval_docs (${DOC_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
        doc.org,
        doc.id,
        doc.kind,
        doc.applicant,
        doc.title,
        doc.body,
        JSON.stringify(doc.payload ?? null),
        doc.status,
        doc.version,
        doc.createdAt,
        doc.updatedAt,
        doc.submittedAt,
        doc.decidedAt,
      );
    } catch (err) {
      if (isUniqueError(err)) throw new MoimError('CONFLICT', `approval ${doc.id} exists`, { cause: err });
      throw err;
    }
    yield* insertSteps(doc.org, doc.id, doc.steps);
  },

  *get(org: string, id: string): SqlSteps<StoredApproval | undefined> {
    const [row] = yield op(`SELECT ${DOC_COLUMNS} FROM approval_docs WHERE org = ? AND id = ?`, org, id);
    if (!row) return undefined;
    const steps = (yield* loadSteps(org, [id])).get(id) ?? [];
    const comments = (yield op(
      'SELECT author, text, at FROM approval_comments WHERE org = ? AND doc_id = ? ORDER BY id',
      org,
      id,
    )).map((r): StoredComment => ({ author: str(r.author), text: str(r.text), at: num(r.at) }));
    return toDoc(row, steps, comments);
  },

  *updateDraft(
    org: string,
    id: string,
    version: number,
    change: { title: string; body: string; approvers: readonly string[] },
    at: number,
  ): SqlSteps<boolean> {
    if (!(yield* bump(org, id, version, ['draft'], 'title = ?, body = ?', [change.title, change.body], at)))
      return false;
    yield op('DELETE FROM approval_steps WHERE org = ? AND doc_id = ? RETURNING idx', org, id);
    yield* insertSteps(org, id, change.approvers.map(waitingStep));
    return true;
  },

  *submit(org: string, id: string, version: number, at: number, dueAt: number): SqlSteps<boolean> {
    if (!(yield* bump(org, id, version, ['draft'], "status = 'pending', submitted_at = ?", [at], at))) return false;
    const first = yield op(
      `UPDATE approval_steps SET status = 'pending', due_at = ? WHERE org = ? AND doc_id = ? AND idx = 0 RETURNING idx`,
      dueAt,
      org,
      id,
    );
    if (first.length === 0) throw new Rollback('no steps');
    return true;
  },

  *decide(org: string, id: string, c: DecisionChange): SqlSteps<boolean> {
    const [count] = yield op('SELECT COUNT(*) AS n FROM approval_steps WHERE org = ? AND doc_id = ?', org, id);
    const last = c.step >= num(count?.n ?? 0) - 1;
    const final = c.decision === 'rejected' || last;
    const status = c.decision === 'rejected' ? 'rejected' : last ? 'approved' : 'pending';
    if (
      !(yield* bump(org, id, c.version, ['pending'], 'status = ?, decided_at = ?', [status, final ? c.at : null], c.at))
    )
      return false;
    const decided = yield op(
      `UPDATE approval_steps SET status = ?, decided_by = ?, on_behalf_of = ?, decided_at = ?, comment = ?, due_at = NULL
       WHERE org = ? AND doc_id = ? AND idx = ? AND status = 'pending' RETURNING idx`,
      c.decision,
      c.decidedBy,
      c.onBehalfOf,
      c.at,
      c.comment,
      org,
      id,
      c.step,
    );
    if (decided.length === 0) throw new Rollback('step not pending');
    if (!final)
      yield op(
        `UPDATE approval_steps SET status = 'pending', due_at = ? WHERE org = ? AND doc_id = ? AND idx = ? RETURNING idx`,
        c.nextDueAt,
        org,
        id,
        c.step + 1,
      );
    return true;
  },

  *discardDraft(org: string, id: string): SqlSteps<boolean> {
    const rows = yield op(
      "DELETE FROM approval_docs WHERE org = ? AND id = ? AND status = 'draft' RETURNING id",
      org,
      id,
    );
    return rows.length > 0;
  },

  *cancel(org: string, id: string, at: number): SqlSteps<boolean> {
    const rows = yield op(
      `UPDATE approval_docs SET status = 'cancelled', version = version + 1, updated_at = ?, decided_at = ?
       WHERE org = ? AND id = ? AND status IN ('draft', 'pending') RETURNING version`,
      at,
      at,
      org,
      id,
    );
    return rows.length > 0;
  },

  *escalate(org: string, id: string, c: EscalationChange): SqlSteps<boolean> {
    if (!(yield* bump(org, id, c.version, ['pending'], '', [], c.at))) return false;
    // to = from: only the deadline moves (nobody above), and where it came from stays
    const moved = yield op(
      `UPDATE approval_steps SET escalated_from = CASE WHEN approver = ? THEN escalated_from ELSE ? END,
       approver = ?, due_at = ?
       WHERE org = ? AND doc_id = ? AND idx = ? AND status = 'pending' AND approver = ? RETURNING idx`,
      c.to,
      c.from,
      c.to,
      c.dueAt,
      org,
      id,
      c.step,
      c.from,
    );
    if (moved.length === 0) throw new Rollback('step moved');
    return true;
  },

  *addComment(org: string, id: string, c: StoredComment): SqlSteps<boolean> {
    // PostgreSQL: a decision committing meanwhile is waited for, and the next statement sees it
    yield pgOp('SELECT 1 AS x FROM approval_docs WHERE org = ? AND id = ? FOR SHARE', org, id);
    const [open] = yield op(
      "SELECT status FROM approval_docs WHERE org = ? AND id = ? AND status IN ('draft', 'pending')",
      org,
      id,
    );
    if (!open) return false;
    yield op(
      'INSERT INTO approval_comments (org, doc_id, author, text, at) VALUES (?, ?, ?, ?, ?) RETURNING at',
      org,
      id,
      c.author,
      c.text,
      c.at,
    );
    return true;
  },

  *list(org: string, q: ApprovalListQuery): SqlSteps<StoredApproval[]> {
    const where: string[] = ['org = ?'];
    const params: (string | number)[] = [org];
    if (q.applicant !== undefined) {
      where.push('applicant = ?');
      params.push(q.applicant);
    }
    if (q.approvers !== undefined) {
      if (q.approvers.length === 0) return [];
      where.push(
        `status <> 'draft' AND id IN (SELECT doc_id FROM approval_steps WHERE org = ? AND approver IN (${marks(q.approvers.length)}))`,
      );
      params.push(org, ...q.approvers);
    }
    if (q.status !== undefined) {
      where.push('status = ?');
      params.push(q.status);
    }
    if (q.before) {
      where.push('(created_at < ? OR (created_at = ? AND id < ?))');
      params.push(q.before.createdAt, q.before.createdAt, q.before.id);
    }
    const rows = yield op(
      `SELECT ${DOC_COLUMNS} FROM approval_docs WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ?`,
      ...params,
      q.limit,
    );
    const steps = yield* loadSteps(
      org,
      rows.map((r) => str(r.id)),
    );
    return rows.map((r) => toDoc(r, steps.get(str(r.id)) ?? [], []));
  },

  *dueSteps(now: number, limit: number): SqlSteps<DueStep[]> {
    const rows = yield op(
      `SELECT s.org AS org, s.doc_id AS id, d.version AS version, s.idx AS idx, s.approver AS approver
       FROM approval_steps s JOIN approval_docs d ON d.org = s.org AND d.id = s.doc_id
       WHERE s.status = 'pending' AND s.due_at <= ? AND d.status = 'pending'
       ORDER BY s.due_at, s.org, s.doc_id LIMIT ?`,
      now,
      limit,
    );
    return rows.map((r) => ({
      org: str(r.org),
      id: str(r.id),
      version: num(r.version),
      step: num(r.idx),
      approver: str(r.approver),
    }));
  },

  *putDelegation(org: string, d: StoredDelegation, at: number): SqlSteps<void> {
    yield op(
      `INSERT INTO approval_delegations (org, delegator, delegate, from_day, until_day, starts_at, ends_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (org, delegator, delegate) DO UPDATE SET from_day = excluded.from_day, until_day = excluded.until_day,
         starts_at = excluded.starts_at, ends_at = excluded.ends_at, created_at = excluded.created_at
       RETURNING delegate`,
      org,
      d.from,
      d.to,
      d.fromDay,
      d.untilDay,
      d.startsAt,
      d.endsAt,
      at,
    );
  },

  *deleteDelegation(org: string, from: string, to: string): SqlSteps<boolean> {
    const rows = yield op(
      'DELETE FROM approval_delegations WHERE org = ? AND delegator = ? AND delegate = ? RETURNING delegate',
      org,
      from,
      to,
    );
    return rows.length > 0;
  },

  *listDelegations(org: string, sub: string): SqlSteps<{ given: StoredDelegation[]; received: StoredDelegation[] }> {
    const cols = 'delegator, delegate, from_day, until_day, starts_at, ends_at';
    const given = yield op(
      `SELECT ${cols} FROM approval_delegations WHERE org = ? AND delegator = ? ORDER BY starts_at, delegate`,
      org,
      sub,
    );
    const received = yield op(
      `SELECT ${cols} FROM approval_delegations WHERE org = ? AND delegate = ? ORDER BY starts_at, delegator`,
      org,
      sub,
    );
    return { given: given.map(toDelegation), received: received.map(toDelegation) };
  },

  *delegatorsOf(org: string, delegate: string, at: number): SqlSteps<string[]> {
    const rows = yield op(
      `SELECT delegator FROM approval_delegations WHERE org = ? AND delegate = ? AND starts_at <= ? AND ends_at > ?
       ORDER BY delegator`,
      org,
      delegate,
      at,
      at,
    );
    return rows.map((r) => str(r.delegator));
  },

  *addRequestDays(org: string, days: readonly StoredRequestDay[], quota: readonly QuotaWindow[]): SqlSteps<void> {
    const sub = days[0]?.sub;
    if (sub === undefined) return;
    // one person's requests are checked and stored one at a time across nodes
    yield pgOp('SELECT pg_advisory_xact_lock(hashtext(?))', `telework-request:${JSON.stringify([org, sub])}`);
    const active = "status IN ('pending', 'approved', 'waitlisted')";
    const [taken] = yield op(
      `SELECT day FROM telework_request_days WHERE org = ? AND sub = ? AND ${active} AND day IN (${marks(days.length)})
       ORDER BY day LIMIT 1`,
      org,
      sub,
      ...days.map((d) => d.day),
    );
    if (taken) throw new MoimError('CONFLICT', `a telework request for ${str(taken.day)} is already open`);
    for (const w of quota) {
      const [held] = yield op(
        `SELECT COUNT(*) AS n FROM telework_request_days WHERE org = ? AND sub = ? AND ${active} AND day >= ? AND day < ?`,
        org,
        sub,
        w.from,
        w.to,
      );
      const adding = days.filter((d) => d.day >= w.from && d.day < w.to).length;
      if (num(held?.n ?? 0) + adding > w.max)
        throw new MoimError(
          'QUOTA_EXCEEDED',
          `at most ${w.max} telework days in the ${w.label} (${num(held?.n ?? 0)} already requested)`,
        );
    }
    for (const d of days)
      yield op(
        `INSERT INTO telework_request_days (org, ${DAY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING day`,
        org,
        d.requestId,
        d.sub,
        d.day,
        d.type,
        d.siteId,
        d.placeId,
        d.status,
        d.priority,
        d.requestedAt,
      );
  },

  *requestDays(org: string, requestId: string): SqlSteps<StoredRequestDay[]> {
    const rows = yield op(
      `SELECT ${DAY_COLUMNS} FROM telework_request_days WHERE org = ? AND request_id = ? ORDER BY day`,
      org,
      requestId,
    );
    return rows.map(toDay);
  },

  *setRequestDays(
    org: string,
    requestId: string,
    from: readonly RequestDayStatus[],
    to: RequestDayStatus,
    days?: readonly string[],
  ): SqlSteps<StoredRequestDay[]> {
    if (from.length === 0 || days?.length === 0) return [];
    const rows = yield op(
      `UPDATE telework_request_days SET status = ?
       WHERE org = ? AND request_id = ? AND status IN (${marks(from.length)})
       ${days ? `AND day IN (${marks(days.length)})` : ''}
       RETURNING ${DAY_COLUMNS}`,
      to,
      org,
      requestId,
      ...from,
      ...(days ?? []),
    );
    return rows.map(toDay).sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  },

  *allocate(org: string, siteId: string, day: string, seats: number): SqlSteps<StoredRequestDay[]> {
    yield pgOp('SELECT pg_advisory_xact_lock(hashtext(?))', `telework-seats:${JSON.stringify([org, siteId, day])}`);
    const [approved] = yield op(
      "SELECT COUNT(*) AS n FROM telework_request_days WHERE org = ? AND site_id = ? AND day = ? AND status = 'approved'",
      org,
      siteId,
      day,
    );
    const free = seats - num(approved?.n ?? 0);
    if (free <= 0) return [];
    const queue = (yield op(
      `SELECT ${DAY_COLUMNS} FROM telework_request_days
       WHERE org = ? AND site_id = ? AND day = ? AND status IN ('pending', 'waitlisted')
       ORDER BY ${QUEUE_ORDER} LIMIT ?`,
      org,
      siteId,
      day,
      free,
    )).map(toDay);
    const promoted: StoredRequestDay[] = [];
    for (const d of queue) {
      if (d.status !== 'waitlisted') continue; // an undecided request ahead keeps its place
      yield op(
        `UPDATE telework_request_days SET status = 'approved'
         WHERE org = ? AND request_id = ? AND day = ? AND status = 'waitlisted' RETURNING day`,
        org,
        d.requestId,
        d.day,
      );
      promoted.push({ ...d, status: 'approved' });
    }
    return promoted;
  },

  *queue(org: string, siteId: string, day: string): SqlSteps<StoredRequestDay[]> {
    const rows = yield op(
      `SELECT ${DAY_COLUMNS} FROM telework_request_days
       WHERE org = ? AND site_id = ? AND day = ? AND status IN ('pending', 'waitlisted', 'approved')
       ORDER BY ${QUEUE_ORDER}`,
      org,
      siteId,
      day,
    );
    return rows.map(toDay);
  },

  *approvedDay(org: string, sub: string, day: string): SqlSteps<StoredRequestDay | undefined> {
    const [row] = yield op(
      `SELECT ${DAY_COLUMNS} FROM telework_request_days WHERE org = ? AND sub = ? AND day = ? AND status = 'approved'
       ORDER BY requested_at LIMIT 1`,
      org,
      sub,
      day,
    );
    return row ? toDay(row) : undefined;
  },
};

/** How a backend runs an operation: in one transaction, or (reads) as plain statements. */
export type SqlRunner = <T>(steps: () => SqlSteps<T>, opts: { tx: boolean }) => Promise<T>;

/**
 * Drive an operation with `exec` (synchronous: SQLite): each statement's rows go back into the
 * generator, and a statement's error is thrown into it (so an operation may translate it).
 */
export function driveSync<T>(steps: SqlSteps<T>, exec: (op: SqlOp) => Row[]): T {
  let next = steps.next();
  while (!next.done) {
    const current = next.value;
    let rows: Row[];
    try {
      rows = current.pgOnly ? [] : exec(current);
    } catch (err) {
      next = steps.throw(err);
      continue;
    }
    next = steps.next(rows);
  }
  return next.value;
}

/** The same, with an asynchronous `exec` (PostgreSQL). */
export async function driveAsync<T>(steps: SqlSteps<T>, exec: (op: SqlOp) => Promise<Row[]>): Promise<T> {
  let next = steps.next();
  while (!next.done) {
    const current = next.value;
    let rows: Row[];
    try {
      rows = await exec(current);
    } catch (err) {
      next = steps.throw(err);
      continue;
    }
    next = steps.next(rows);
  }
  return next.value;
}

/** Answers false when a transaction rolled back on purpose (a step moved under it). */
async function orFalse(p: Promise<boolean>): Promise<boolean> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof Rollback) return false;
    throw err;
  }
}

/** The ApprovalStore over a backend's runner (SqliteApprovalStore, PgApprovalStore). */
export class SqlApprovalStore implements ApprovalStore {
  readonly #run: SqlRunner;
  constructor(run: SqlRunner) {
    this.#run = run;
  }
  create(doc: StoredApproval) {
    return this.#run(() => ops.create(doc), { tx: true });
  }
  get(org: string, id: string) {
    return this.#run(() => ops.get(org, id), { tx: false });
  }
  updateDraft(
    org: string,
    id: string,
    version: number,
    change: { title: string; body: string; approvers: readonly string[] },
    at: number,
  ) {
    return orFalse(this.#run(() => ops.updateDraft(org, id, version, change, at), { tx: true }));
  }
  submit(org: string, id: string, version: number, at: number, dueAt: number) {
    return orFalse(this.#run(() => ops.submit(org, id, version, at, dueAt), { tx: true }));
  }
  decide(org: string, id: string, change: DecisionChange) {
    return orFalse(this.#run(() => ops.decide(org, id, change), { tx: true }));
  }
  discardDraft(org: string, id: string) {
    return this.#run(() => ops.discardDraft(org, id), { tx: true });
  }
  cancel(org: string, id: string, at: number) {
    return this.#run(() => ops.cancel(org, id, at), { tx: true });
  }
  escalate(org: string, id: string, change: EscalationChange) {
    return orFalse(this.#run(() => ops.escalate(org, id, change), { tx: true }));
  }
  addComment(org: string, id: string, comment: StoredComment) {
    return this.#run(() => ops.addComment(org, id, comment), { tx: true });
  }
  list(org: string, query: ApprovalListQuery) {
    return this.#run(() => ops.list(org, query), { tx: false });
  }
  dueSteps(now: number, limit: number) {
    return this.#run(() => ops.dueSteps(now, limit), { tx: false });
  }
  putDelegation(org: string, d: StoredDelegation, at: number) {
    return this.#run(() => ops.putDelegation(org, d, at), { tx: true });
  }
  deleteDelegation(org: string, from: string, to: string) {
    return this.#run(() => ops.deleteDelegation(org, from, to), { tx: true });
  }
  listDelegations(org: string, sub: string) {
    return this.#run(() => ops.listDelegations(org, sub), { tx: false });
  }
  delegatorsOf(org: string, delegate: string, at: number) {
    return this.#run(() => ops.delegatorsOf(org, delegate, at), { tx: false });
  }
  addRequestDays(org: string, days: readonly StoredRequestDay[], quota: readonly QuotaWindow[]) {
    return this.#run(() => ops.addRequestDays(org, days, quota), { tx: true });
  }
  requestDays(org: string, requestId: string) {
    return this.#run(() => ops.requestDays(org, requestId), { tx: false });
  }
  setRequestDays(
    org: string,
    requestId: string,
    from: readonly RequestDayStatus[],
    to: RequestDayStatus,
    days?: readonly string[],
  ) {
    return this.#run(() => ops.setRequestDays(org, requestId, from, to, days), { tx: true });
  }
  allocate(org: string, siteId: string, day: string, seats: number) {
    return this.#run(() => ops.allocate(org, siteId, day, seats), { tx: true });
  }
  queue(org: string, siteId: string, day: string) {
    return this.#run(() => ops.queue(org, siteId, day), { tx: false });
  }
  approvedDay(org: string, sub: string, day: string) {
    return this.#run(() => ops.approvedDay(org, sub, day), { tx: false });
  }
}
