/**
 * The telework requests client: apply for days of telework (at home, at a smart-work centre,
 * mobile) with the planned tasks, read my requests with each day's status and waitlist position,
 * read one (approvers also get the applicant's priority categories), cancel days. Routes and
 * rules: `@moim/protocol`'s teleworkRequests.ts. Like `Telework` it needs only a URL and a token;
 * `MoimClient.teleworkRequests` is this client on the session's token. Refusals reject with a
 * `MoimError` carrying the server's code (QUOTA_EXCEEDED, NOT_ELIGIBLE, NOT_FOUND, …).
 */
import type {
  TeleworkCancelInput,
  TeleworkRequest,
  TeleworkRequestInput,
  TeleworkRequestListResponse,
  TeleworkRequestResponse,
} from '@moim/protocol';
import { authorizedJson } from '../http.ts';
import { checkDay, checkUuid } from './checks.ts';
import type { TeleworkOptions } from './Telework.ts';

export class TeleworkRequests {
  readonly #url: string;
  readonly #getToken: () => Promise<string> | string;

  constructor(options: TeleworkOptions) {
    this.#url = options.url.replace(/\/+$/, '');
    this.#getToken = options.getToken;
  }

  async #call<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    return authorizedJson<T>(this.#url, await this.#getToken(), `/telework/requests${path}`, init);
  }

  /** Apply for telework on `days` (submitted at once to my approver line). */
  async apply(input: TeleworkRequestInput): Promise<TeleworkRequest> {
    for (const d of input.days) checkDay('days', d);
    return (await this.#call<TeleworkRequestResponse>('', { method: 'POST', body: input })).request;
  }

  /** My requests, newest first. */
  async mine(): Promise<TeleworkRequest[]> {
    return (await this.#call<TeleworkRequestListResponse>('/mine')).requests;
  }

  /** One request; `priorityCategories` is there for its approvers, their delegates and admins. */
  async get(id: string): Promise<TeleworkRequestResponse> {
    return this.#call<TeleworkRequestResponse>(`/${checkUuid('id', id)}`);
  }

  /** Cancel the days named, or every day still open; a pending request is cancelled as a whole. */
  async cancel(id: string, days?: string[]): Promise<TeleworkRequest> {
    const body: TeleworkCancelInput = days ? { days: days.map((d) => checkDay('days', d)) } : {};
    return (await this.#call<TeleworkRequestResponse>(`/${checkUuid('id', id)}/cancel`, { method: 'POST', body }))
      .request;
  }
}
