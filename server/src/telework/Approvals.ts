/**
 * Approvals: the approval engine (e-approval, 전자결재) every kind of document goes through. It
 * owns the rules — a draft is the applicant's alone and editable only while a draft; once
 * submitted only decisions and comments; never anything after approval or rejection
 * (ALREADY_DECIDED); a step is decided by its approver or by someone the approver delegated to
 * for that day (the decision and the audit say "by X for Y"); nobody decides their own document;
 * a step undecided by its deadline is escalated to the approver's own manager (a scheduler job) —
 * who may read what, the audit entry of every change, and the chat notices: approvers on submit
 * and escalation, the applicant on each decision. Races are the store's: every transition is a
 * conditional update on the version read, so of two deciders exactly one wins.
 *
 * A kind's owner (telework requests) opens its documents with `openFor` and reacts to the
 * `decided` event; its payload is its own to validate.
 */
import { randomUUID } from 'node:crypto';
import {
  type Approval,
  type ApprovalDecisionInput,
  type ApprovalDraftInput,
  type ApprovalKind,
  type ApprovalListQuery,
  type ApprovalListResponse,
  type ApprovalPatchInput,
  type ApprovalSummary,
  type Delegation,
  type DelegationInput,
  MoimError,
  TypedEmitter,
} from '@moim/protocol';
import type { Principal } from '../auth/Principal.ts';
import type { Logger } from '../logger.ts';
import {
  type ApprovalStore,
  type StoredApproval,
  type StoredDelegation,
  waitingStep,
} from '../storage/ApprovalStore.ts';
import type { AuditStore } from '../storage/AuditStore.ts';
import type { TeleworkStore } from '../storage/TeleworkStore.ts';
import type { ApprovalChains, Notices } from './contracts.ts';
import type { Clock } from './Scheduler.ts';
import { nextDay, startOfDay } from './siteClock.ts';

/** The zone of an org's days when its `hq` site names none (the seed's). */
const DEFAULT_TIME_ZONE = 'Asia/Seoul';
/** Due steps escalated per scheduler run (the next run takes the rest). */
const ESCALATION_BATCH = 200;
export const ESCALATION_JOB = 'approval-escalation';

export interface ApprovalEvents {
  /** A document was approved or rejected (its last step, or any rejection). */
  decided: (org: string, approval: Approval) => void;
  /** The applicant cancelled a draft or pending document. */
  cancelled: (org: string, approval: Approval) => void;
}

export interface ApprovalsOptions {
  store: ApprovalStore;
  /** For the org's time zone (its `hq` site's) of delegation days. */
  telework: TeleworkStore;
  audit: AuditStore;
  notices: Notices;
  /** The org directory's approver lines; undefined: only `document` approvals (named lines). */
  chains: ApprovalChains | undefined;
  clock: Clock;
  log: Logger;
  /** Approvers a `document` line may name (MOIM_TELEWORK_APPROVAL_MAX_STEPS). */
  maxSteps: number;
  /** A pending step's deadline after it became pending (MOIM_TELEWORK_ESCALATE_AFTER_HOURS). */
  escalateAfterMs: number;
}

/** Who the caller is to a document. */
export type ApprovalRole = 'applicant' | 'approver' | 'delegate' | 'admin';

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

export function toApproval(d: StoredApproval): Approval {
  return {
    id: d.id,
    kind: d.kind,
    applicant: d.applicant,
    title: d.title,
    body: d.body,
    payload: d.payload,
    status: d.status,
    steps: d.steps.map((s) => ({
      approver: s.approver,
      status: s.status,
      decidedBy: s.decidedBy,
      onBehalfOf: s.onBehalfOf,
      decidedAt: isoOrNull(s.decidedAt),
      comment: s.comment,
      dueAt: isoOrNull(s.dueAt),
      escalatedFrom: s.escalatedFrom,
    })),
    comments: d.comments.map((c) => ({ author: c.author, text: c.text, at: iso(c.at) })),
    version: d.version,
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
    submittedAt: isoOrNull(d.submittedAt),
    decidedAt: isoOrNull(d.decidedAt),
  };
}

export function toSummary(d: StoredApproval): ApprovalSummary {
  const { body: _body, comments: _comments, ...rest } = toApproval(d);
  return rest;
}

const toDelegation = (d: StoredDelegation): Delegation => ({
  from: d.from,
  to: d.to,
  fromDay: d.fromDay,
  untilDay: d.untilDay,
  startsAt: iso(d.startsAt),
  endsAt: iso(d.endsAt),
});

/** A new draft of `applicant`'s, its steps waiting for `approvers` in order. */
const newDraft = (
  of: Pick<StoredApproval, 'org' | 'kind' | 'applicant' | 'title' | 'body' | 'payload'>,
  approvers: readonly string[],
  now: number,
): StoredApproval => ({
  ...of,
  id: randomUUID(),
  status: 'draft',
  steps: approvers.map(waitingStep),
  comments: [],
  version: 0,
  createdAt: now,
  updatedAt: now,
  submittedAt: null,
  decidedAt: null,
});

export class Approvals extends TypedEmitter<ApprovalEvents> {
  readonly #store: ApprovalStore;
  readonly #telework: TeleworkStore;
  readonly #audit: AuditStore;
  readonly #notices: Notices;
  readonly #chains: ApprovalChains | undefined;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #maxSteps: number;
  readonly #escalateAfterMs: number;

  constructor(opts: ApprovalsOptions) {
    super();
    this.#store = opts.store;
    this.#telework = opts.telework;
    this.#audit = opts.audit;
    this.#notices = opts.notices;
    this.#chains = opts.chains;
    this.#clock = opts.clock;
    this.#log = opts.log;
    this.#maxSteps = opts.maxSteps;
    this.#escalateAfterMs = opts.escalateAfterMs;
    this.onListenerError = (event, err) => this.#log.error({ err, event }, 'approval listener failed');
  }

  // ── documents ─────────────────────────────────────────────────────────────

  /** A `document` draft with the approver line the caller picks. */
  async createDraft(caller: Principal, input: ApprovalDraftInput): Promise<Approval> {
    const org = caller.token.org;
    const approvers = this.#checkLine(caller.sub, input.approvers);
    const now = this.#clock.now();
    const doc = newDraft(
      { org, kind: 'document', applicant: caller.sub, title: input.title, body: input.body, payload: null },
      approvers,
      now,
    );
    await this.#store.create(doc);
    await this.#audit.append({
      actor: caller.sub,
      action: 'approval.create',
      target: doc.id,
      detail: { org, kind: doc.kind, approvers },
    });
    return toApproval(doc);
  }

  /**
   * Open and submit a document of a kind whose approver line is the org directory's (telework
   * requests, attendance corrections) for `applicant`. NOT_ELIGIBLE when the directory names no
   * approver. `beforeSubmit` stores the kind's own records (it may refuse: the draft is then
   * discarded and its error thrown).
   */
  async openFor(
    org: string,
    applicant: string,
    input: { kind: Exclude<ApprovalKind, 'document'>; title: string; body: string; payload: unknown },
    beforeSubmit: (id: string, at: number) => Promise<void>,
  ): Promise<Approval> {
    if (!this.#chains)
      throw new MoimError('UNAVAILABLE', 'approval chains need the org directory, which this server does not run');
    const chain = (await this.#chains.chainOf(org, applicant)).filter((s) => s !== applicant);
    if (chain.length === 0)
      throw new MoimError(
        'NOT_ELIGIBLE',
        'no approver on record: the org directory names no manager for you (ask an admin to set one)',
      );
    const now = this.#clock.now();
    const { kind, title, body, payload } = input;
    const doc = newDraft({ org, kind, applicant, title, body, payload }, chain, now);
    await this.#store.create(doc);
    try {
      await beforeSubmit(doc.id, now);
    } catch (err) {
      if (!(await this.#store.discardDraft(org, doc.id)))
        this.#log.error({ org, approval: doc.id }, 'a refused draft could not be discarded');
      throw err;
    }
    if (!(await this.#store.submit(org, doc.id, 0, now, now + this.#escalateAfterMs)))
      throw new MoimError('CONFLICT', 'the new document changed before it was submitted');
    await this.#audit.append({
      actor: applicant,
      action: 'approval.submit',
      target: doc.id,
      detail: { org, kind: doc.kind, approvers: chain },
    });
    const submitted = await this.#mustGet(org, doc.id);
    await this.#tellApprover(submitted);
    return toApproval(submitted);
  }

  /** Change a draft (the applicant; `input.version` must be the stored one). */
  async patch(caller: Principal, id: string, input: ApprovalPatchInput): Promise<Approval> {
    const org = caller.token.org;
    const doc = await this.#mustGet(org, id);
    if (doc.applicant !== caller.sub) throw new MoimError('FORBIDDEN', 'only the applicant edits a draft');
    this.#requireDraft(doc);
    if (doc.kind !== 'document' && input.approvers !== undefined)
      throw new MoimError('INVALID_PAYLOAD', `approvers: the line of a ${doc.kind} comes from the org directory`);
    if (input.version !== doc.version) throw new MoimError('CONFLICT', `the draft is at version ${doc.version}`);
    const approvers = input.approvers ? this.#checkLine(caller.sub, input.approvers) : doc.steps.map((s) => s.approver);
    const change = { title: input.title ?? doc.title, body: input.body ?? doc.body, approvers };
    if (!(await this.#store.updateDraft(org, id, input.version, change, this.#clock.now())))
      throw await this.#lostRace(org, id, 'the draft changed meanwhile; read it again');
    await this.#audit.append({
      actor: caller.sub,
      action: 'approval.update',
      target: id,
      detail: { org, fields: Object.keys(input).filter((k) => k !== 'version') },
    });
    return toApproval(await this.#mustGet(org, id));
  }

  /** draft → pending (the applicant); the first approver is told. */
  async submit(caller: Principal, id: string): Promise<Approval> {
    const org = caller.token.org;
    const doc = await this.#mustGet(org, id);
    if (doc.applicant !== caller.sub) throw new MoimError('FORBIDDEN', 'only the applicant submits a draft');
    this.#requireDraft(doc);
    const now = this.#clock.now();
    if (!(await this.#store.submit(org, id, doc.version, now, now + this.#escalateAfterMs)))
      throw await this.#lostRace(org, id, 'the draft changed meanwhile; read it again');
    await this.#audit.append({
      actor: caller.sub,
      action: 'approval.submit',
      target: id,
      detail: { org, kind: doc.kind, approvers: doc.steps.map((s) => s.approver) },
    });
    const submitted = await this.#mustGet(org, id);
    await this.#tellApprover(submitted);
    return toApproval(submitted);
  }

  /** Approve or reject the pending step (its approver, or their delegate for today). */
  async decide(
    caller: Principal,
    id: string,
    decision: 'approved' | 'rejected',
    input: ApprovalDecisionInput,
  ): Promise<Approval> {
    const org = caller.token.org;
    const doc = await this.#mustGet(org, id);
    const index = doc.steps.findIndex((s) => s.status === 'pending');
    const step = doc.steps[index];
    if (doc.status === 'draft') {
      if (!(await this.roleOf(caller, doc))) throw new MoimError('FORBIDDEN', 'not an approver of this document');
      throw new MoimError('CONFLICT', 'the document is a draft: it is decided after it is submitted');
    }
    if (doc.status !== 'pending' || !step) {
      if (!(await this.roleOf(caller, doc))) throw new MoimError('FORBIDDEN', 'not an approver of this document');
      throw new MoimError('ALREADY_DECIDED', `the document is ${doc.status}`);
    }
    if (caller.sub === doc.applicant) throw new MoimError('FORBIDDEN', 'nobody decides their own document');
    const now = this.#clock.now();
    let onBehalfOf: string | null = null;
    if (step.approver !== caller.sub) {
      const delegators = await this.#store.delegatorsOf(org, caller.sub, now);
      if (!delegators.includes(step.approver))
        throw new MoimError('FORBIDDEN', `step ${index + 1} is ${step.approver}’s to decide (or their delegate’s)`);
      onBehalfOf = step.approver;
    }
    if (input.version !== undefined && input.version !== doc.version)
      throw new MoimError('CONFLICT', `the document is at version ${doc.version}`);
    const decided = await this.#store.decide(org, id, {
      version: doc.version,
      step: index,
      decision,
      decidedBy: caller.sub,
      onBehalfOf,
      comment: input.comment ? input.comment : null,
      at: now,
      nextDueAt: now + this.#escalateAfterMs,
    });
    if (!decided) {
      const after = await this.#mustGet(org, id);
      if (after.status !== 'pending' || after.steps[index]?.status !== 'pending')
        throw new MoimError('ALREADY_DECIDED', 'someone decided this step first');
      throw new MoimError('CONFLICT', 'the document changed meanwhile; read it again');
    }
    await this.#audit.append({
      actor: caller.sub,
      action: decision === 'approved' ? 'approval.approve' : 'approval.reject',
      target: id,
      detail: { org, kind: doc.kind, step: index, approver: step.approver, onBehalfOf },
    });
    this.#log.info({ org, approval: id, step: index, decision, by: caller.sub, onBehalfOf }, 'approval step decided');
    const after = await this.#mustGet(org, id);
    const by = onBehalfOf ? `${caller.sub} (for ${onBehalfOf})` : caller.sub;
    await this.#notices.tell(
      org,
      after.applicant,
      `${decision === 'approved' ? '승인 · Approved' : '반려 · Rejected'} by ${by}: ${after.title}${input.comment ? ` — “${input.comment}”` : ''}`,
      `#/approvals/${id}`,
    );
    const approval = toApproval(after);
    if (after.status === 'pending') await this.#tellApprover(after);
    else this.safeEmit('decided', org, approval);
    return approval;
  }

  /** Cancel a draft or pending document (its applicant). */
  async cancel(caller: Principal, id: string): Promise<Approval> {
    const org = caller.token.org;
    const doc = await this.#mustGet(org, id);
    if (doc.applicant !== caller.sub) throw new MoimError('FORBIDDEN', 'only the applicant cancels a document');
    return this.cancelFor(org, caller.sub, id);
  }

  /** Cancel `applicant`'s draft or pending document (for a kind's owner, which checked who asks). */
  async cancelFor(org: string, applicant: string, id: string): Promise<Approval> {
    const doc = await this.#mustGet(org, id);
    if (doc.applicant !== applicant) throw new MoimError('FORBIDDEN', 'only the applicant cancels a document');
    if (doc.status === 'cancelled') return toApproval(doc);
    if (!(await this.#store.cancel(org, id, this.#clock.now())))
      throw new MoimError('ALREADY_DECIDED', `the document is ${(await this.#mustGet(org, id)).status}`);
    await this.#audit.append({
      actor: applicant,
      action: 'approval.cancel',
      target: id,
      detail: { org, kind: doc.kind },
    });
    const approval = toApproval(await this.#mustGet(org, id));
    this.safeEmit('cancelled', org, approval);
    return approval;
  }

  /** A comment by the applicant, an approver or their delegate, while draft or pending. */
  async comment(caller: Principal, id: string, text: string): Promise<Approval> {
    const org = caller.token.org;
    const doc = await this.#mustGet(org, id);
    const role = await this.roleOf(caller, doc);
    if (!role || role === 'admin') throw new MoimError('FORBIDDEN', 'only the applicant and approvers comment');
    if (!(await this.#store.addComment(org, id, { author: caller.sub, text, at: this.#clock.now() })))
      throw new MoimError('ALREADY_DECIDED', `the document is ${(await this.#mustGet(org, id)).status}`);
    await this.#audit.append({ actor: caller.sub, action: 'approval.comment', target: id, detail: { org } });
    return toApproval(await this.#mustGet(org, id));
  }

  /** Read a document (the applicant, its approvers, their delegates, org admins). */
  async get(caller: Principal, id: string): Promise<Approval> {
    const doc = await this.#mustGet(caller.token.org, id);
    if (!(await this.roleOf(caller, doc))) throw new MoimError('FORBIDDEN', 'not a party to this document');
    return toApproval(doc);
  }

  /** The stored document with the caller's role to it, FORBIDDEN when they have none (for kind owners). */
  async readAs(caller: Principal, id: string): Promise<{ approval: StoredApproval; role: ApprovalRole }> {
    const doc = await this.#mustGet(caller.token.org, id);
    const role = await this.roleOf(caller, doc);
    if (!role) throw new MoimError('FORBIDDEN', 'not a party to this document');
    return { approval: doc, role };
  }

  /** The caller's documents as applicant, or as approver (with those of people delegating to them now). */
  async list(caller: Principal, q: ApprovalListQuery): Promise<ApprovalListResponse> {
    const org = caller.token.org;
    let before: { createdAt: number; id: string } | undefined;
    if (q.cursor !== undefined) {
      const [at, id] = q.cursor.split(/\.(.*)/s) as [string, string];
      before = { createdAt: Number(at), id };
    }
    const approvers =
      q.role === 'approver'
        ? [caller.sub, ...(await this.#store.delegatorsOf(org, caller.sub, this.#clock.now()))]
        : undefined;
    const rows = await this.#store.list(org, {
      applicant: q.role === 'applicant' ? caller.sub : undefined,
      approvers,
      status: q.status,
      before,
      limit: q.limit + 1,
    });
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    return {
      approvals: page.map(toSummary),
      nextCursor: rows.length > q.limit && last ? `${last.createdAt}.${last.id}` : null,
    };
  }

  /** The caller's role to a document: undefined when they may not read it. */
  async roleOf(caller: Principal, doc: StoredApproval): Promise<ApprovalRole | undefined> {
    if (doc.org !== caller.token.org) return undefined;
    if (doc.applicant === caller.sub) return 'applicant';
    if (doc.status !== 'draft') {
      const parties = new Set<string>();
      for (const s of doc.steps) {
        parties.add(s.approver);
        if (s.escalatedFrom) parties.add(s.escalatedFrom);
      }
      if (parties.has(caller.sub)) return 'approver';
      if (doc.steps.some((s) => s.decidedBy === caller.sub)) return 'delegate';
      const delegators = await this.#store.delegatorsOf(doc.org, caller.sub, this.#clock.now());
      if (delegators.some((d) => parties.has(d))) return 'delegate';
    }
    return caller.isAdmin ? 'admin' : undefined;
  }

  // ── delegations ───────────────────────────────────────────────────────────

  /** The caller delegates their approvals to `input.to` for whole days (the org's time zone). */
  async putDelegation(caller: Principal, input: DelegationInput): Promise<Delegation> {
    const org = caller.token.org;
    if (input.to === caller.sub) throw new MoimError('INVALID_PAYLOAD', 'to: someone else');
    const zone = (await this.#telework.getSite(org, 'hq'))?.timeZone ?? DEFAULT_TIME_ZONE;
    const d: StoredDelegation = {
      from: caller.sub,
      to: input.to,
      fromDay: input.from,
      untilDay: input.until,
      startsAt: startOfDay(input.from, zone),
      endsAt: startOfDay(nextDay(input.until), zone),
    };
    await this.#store.putDelegation(org, d, this.#clock.now());
    await this.#audit.append({
      actor: caller.sub,
      action: 'approval.delegation.put',
      target: input.to,
      detail: { org, from: input.from, until: input.until, timeZone: zone },
    });
    await this.#notices.tell(
      org,
      input.to,
      `결재 위임 · ${caller.sub} delegated their approvals to you from ${input.from} to ${input.until}`,
      '#/approvals',
    );
    return toDelegation(d);
  }

  async listDelegations(caller: Principal): Promise<{ given: Delegation[]; received: Delegation[] }> {
    const { given, received } = await this.#store.listDelegations(caller.token.org, caller.sub);
    return { given: given.map(toDelegation), received: received.map(toDelegation) };
  }

  async deleteDelegation(caller: Principal, to: string): Promise<void> {
    const org = caller.token.org;
    if (!(await this.#store.deleteDelegation(org, caller.sub, to)))
      throw new MoimError('NOT_FOUND', `no delegation to ${to}`);
    await this.#audit.append({ actor: caller.sub, action: 'approval.delegation.delete', target: to, detail: { org } });
  }

  // ── escalation (a scheduler job) ──────────────────────────────────────────

  /**
   * Move every pending step past its deadline to the approver's own manager (audited, the new
   * approver told). Without anyone above (or only the applicant), the deadline moves on instead.
   * Resolves with the steps escalated.
   */
  async escalateDue(now: number): Promise<number> {
    let escalated = 0;
    for (const due of await this.#store.dueSteps(now, ESCALATION_BATCH)) {
      const doc = await this.#store.get(due.org, due.id);
      if (!doc) continue;
      const target = await this.#chains?.escalationTargetOf(due.org, due.approver);
      const to = target !== undefined && target !== doc.applicant && target !== due.approver ? target : undefined;
      const moved = await this.#store.escalate(due.org, due.id, {
        version: due.version,
        step: due.step,
        from: due.approver,
        to: to ?? due.approver,
        dueAt: now + this.#escalateAfterMs,
        at: now,
      });
      if (!moved || to === undefined) {
        if (moved) this.#log.info({ org: due.org, approval: due.id }, 'approval step overdue with nobody above');
        continue;
      }
      escalated++;
      await this.#audit.append({
        actor: 'system',
        action: 'approval.escalate',
        target: due.id,
        detail: { org: due.org, kind: doc.kind, step: due.step, from: due.approver, to },
      });
      this.#log.info({ org: due.org, approval: due.id, from: due.approver, to }, 'approval step escalated');
      await this.#notices.tell(
        due.org,
        to,
        `결재 이관 · Escalated to you (undecided by ${due.approver}): ${doc.title} from ${doc.applicant}`,
        `#/approvals/${due.id}`,
      );
    }
    return escalated;
  }

  // ── helpers ───────────────────────────────────────────────────────────────

  #checkLine(applicant: string, approvers: readonly string[]): string[] {
    if (approvers.length > this.#maxSteps)
      throw new MoimError('INVALID_PAYLOAD', `approvers: at most ${this.#maxSteps}`);
    if (approvers.includes(applicant))
      throw new MoimError('INVALID_PAYLOAD', 'approvers: nobody approves their own document');
    if (new Set(approvers).size !== approvers.length)
      throw new MoimError('INVALID_PAYLOAD', 'approvers: each person once');
    return [...approvers];
  }

  #requireDraft(doc: StoredApproval): void {
    if (doc.status === 'approved' || doc.status === 'rejected')
      throw new MoimError('ALREADY_DECIDED', `the document is ${doc.status}: it is never edited again`);
    if (doc.status !== 'draft') throw new MoimError('CONFLICT', `the document is ${doc.status}, not a draft`);
  }

  /** Why a conditional update found nothing to change. */
  async #lostRace(org: string, id: string, otherwise: string): Promise<MoimError> {
    const doc = await this.#mustGet(org, id);
    if (doc.status === 'approved' || doc.status === 'rejected')
      return new MoimError('ALREADY_DECIDED', `the document is ${doc.status}`);
    return new MoimError('CONFLICT', otherwise);
  }

  async #mustGet(org: string, id: string): Promise<StoredApproval> {
    const doc = await this.#store.get(org, id);
    if (!doc) throw new MoimError('NOT_FOUND', `no approval ${id}`);
    return doc;
  }

  /** The pending step's approver, and whoever they delegate to right now, are told. */
  async #tellApprover(doc: StoredApproval): Promise<void> {
    const step = doc.steps.find((s) => s.status === 'pending');
    if (!step) return;
    const link = `#/approvals/${doc.id}`;
    await this.#notices.tell(
      doc.org,
      step.approver,
      `결재 요청 · ${doc.applicant} asks for your approval: ${doc.title}`,
      link,
    );
    const now = this.#clock.now();
    const { given } = await this.#store.listDelegations(doc.org, step.approver);
    for (const d of given)
      if (d.startsAt <= now && now < d.endsAt && d.to !== doc.applicant)
        await this.#notices.tell(
          doc.org,
          d.to,
          `결재 요청 (대결) · ${doc.applicant} asks ${step.approver} (whom you stand in for) for approval: ${doc.title}`,
          link,
        );
  }
}
