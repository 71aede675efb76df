/**
 * The approvals client (e-approval, 전자결재): my inbox as an approver and my documents as an
 * applicant, one document with its steps and comments, approve / reject with a comment, comments,
 * free-text documents (draft, edit, submit, cancel) and delegations of my approvals for a date
 * range. Routes and rules: `@moim/protocol`'s approvals.ts. It needs only a URL and a token;
 * `MoimClient.approvals` is this client on the session's token. Refusals reject with a
 * `MoimError` carrying the server's code (ALREADY_DECIDED, FORBIDDEN, CONFLICT, …).
 */
import type {
  Approval,
  ApprovalCommentInput,
  ApprovalDecisionInput,
  ApprovalDraftInput,
  ApprovalListResponse,
  ApprovalPatchInput,
  ApprovalResponse,
  ApprovalStatus,
  Delegation,
  DelegationInput,
  DelegationListResponse,
  DelegationResponse,
} from '@moim/protocol';
import { authorizedJson } from '../http.ts';
import { checkDay, checkSub, checkUuid, queryOf } from './checks.ts';
import type { TeleworkOptions } from './Telework.ts';

export interface ApprovalListOptions {
  /** `approver`: documents with a step of mine (or of someone delegating to me now); `applicant`: mine. */
  role: 'applicant' | 'approver';
  status?: ApprovalStatus;
  /** `nextCursor` of the previous page. */
  cursor?: string;
  /** 1–100 (default 50). */
  limit?: number;
}

export class Approvals {
  readonly #url: string;
  readonly #getToken: () => Promise<string> | string;

  constructor(options: TeleworkOptions) {
    this.#url = options.url.replace(/\/+$/, '');
    this.#getToken = options.getToken;
  }

  async #call<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    return authorizedJson<T>(this.#url, await this.#getToken(), `/approvals${path}`, init);
  }

  /** A page of documents (without bodies and comments), newest first. */
  async list(options: ApprovalListOptions): Promise<ApprovalListResponse> {
    return this.#call<ApprovalListResponse>(
      queryOf({ role: options.role, status: options.status, cursor: options.cursor, limit: options.limit }),
    );
  }

  /** The documents waiting for my decision (or my delegator's). */
  async inbox(limit?: number): Promise<ApprovalListResponse['approvals']> {
    return (await this.list({ role: 'approver', status: 'pending', ...(limit ? { limit } : {}) })).approvals;
  }

  async get(id: string): Promise<Approval> {
    return (await this.#call<ApprovalResponse>(`/${checkUuid('id', id)}`)).approval;
  }

  /** Approve the pending step (as its approver or their delegate); `version`, when given, must be the stored one. */
  async approve(id: string, input: ApprovalDecisionInput = {}): Promise<Approval> {
    return this.#decide(id, 'approve', input);
  }

  async reject(id: string, input: ApprovalDecisionInput = {}): Promise<Approval> {
    return this.#decide(id, 'reject', input);
  }

  async comment(id: string, text: string): Promise<Approval> {
    const body: ApprovalCommentInput = { text };
    return (await this.#call<ApprovalResponse>(`/${checkUuid('id', id)}/comments`, { method: 'POST', body })).approval;
  }

  /** A free-text document as a draft, with the approver line I choose. */
  async draft(input: ApprovalDraftInput): Promise<Approval> {
    for (const a of input.approvers) checkSub('approvers', a);
    return (await this.#call<ApprovalResponse>('', { method: 'POST', body: input })).approval;
  }

  /** Change my draft (read at `input.version`). */
  async update(id: string, input: ApprovalPatchInput): Promise<Approval> {
    return (await this.#call<ApprovalResponse>(`/${checkUuid('id', id)}`, { method: 'PATCH', body: input })).approval;
  }

  async submit(id: string): Promise<Approval> {
    return (await this.#call<ApprovalResponse>(`/${checkUuid('id', id)}/submit`, { method: 'POST' })).approval;
  }

  /** Cancel my draft or pending document. */
  async cancel(id: string): Promise<Approval> {
    return (await this.#call<ApprovalResponse>(`/${checkUuid('id', id)}/cancel`, { method: 'POST' })).approval;
  }

  /** Delegate my approvals to `to` for the days `from`–`until` (replaces one to the same person). */
  async delegate(input: DelegationInput): Promise<Delegation> {
    checkSub('to', input.to);
    checkDay('from', input.from);
    checkDay('until', input.until);
    return (await this.#call<DelegationResponse>('/delegations', { method: 'PUT', body: input })).delegation;
  }

  /** Delegations I gave and received. */
  async delegations(): Promise<DelegationListResponse> {
    return this.#call<DelegationListResponse>('/delegations');
  }

  async revokeDelegation(to: string): Promise<void> {
    await this.#call(`/delegations/${checkSub('to', to)}`, { method: 'DELETE' });
  }

  async #decide(id: string, action: 'approve' | 'reject', input: ApprovalDecisionInput): Promise<Approval> {
    return (await this.#call<ApprovalResponse>(`/${checkUuid('id', id)}/${action}`, { method: 'POST', body: input }))
      .approval;
  }
}
