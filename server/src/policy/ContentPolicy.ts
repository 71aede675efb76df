/**
 * Data-leak policies: the ONE place that decides whether stored content of a video room, chat
 * channel or document may leave (download, export, record) or be read by a guest. The HTTP router
 * and the gateway call `gate` for every route and event registered with a content mark
 * (`{ kind, action }`), so the list of such routes and events is derived from the registrations;
 * other services (recordings) call `check(principal, 'room', id, 'download')`.
 *
 * A policy is stored per item (content_policies) and read at each check — a change applies to the
 * next request on every node, without reconnecting; sockets that asked for it (`policy:get`) are
 * told at once (`policy:changed`). The older per-item switches (a channel's `downloadsAllowed`,
 * a document's `exportAllowed`) still restrict: the effective policy allows only what both allow.
 */
import {
  type ContentPolicyFields,
  type ContentPolicyView,
  contentPolicySchema,
  DEFAULT_CONTENT_POLICY,
  MoimError,
  type PolicyKind,
  TypedEmitter,
} from '@moim/protocol';
import type { Principal } from '../auth/Principal.ts';
import type { Logger } from '../logger.ts';
import type { AuditStore } from '../storage/AuditStore.ts';
import type { ContentPolicyStore } from '../storage/ContentPolicyStore.ts';

/** What a request does with stored content: `read` (history, versions list…) is held back from guests only. */
export type ContentAction = 'download' | 'export' | 'record' | 'read';

/** The mark a content-returning route or event carries in its registration. */
export interface ContentMark {
  kind: PolicyKind;
  action: ContentAction;
}

/** An item's owner and existence, looked up in its own service's store. */
export interface PolicyItems {
  /** The item in the org, with whether `sub` owns it; undefined when it does not exist there. */
  find(org: string, kind: PolicyKind, id: string, sub: string): Promise<{ owner: boolean } | undefined>;
  /**
   * May this person see the item at all (its grants, its membership)? Asked only before a refusal,
   * so a person without access learns nothing of the item's policy (FORBIDDEN, as its service says).
   */
  visible(principal: Principal, kind: PolicyKind, id: string): Promise<boolean>;
  /** What the item's own older switches say (a channel's downloadsAllowed, a document's exportAllowed). */
  legacy(org: string, kind: PolicyKind, id: string): Promise<Partial<ContentPolicyFields>>;
}

export interface ContentPolicyOptions {
  store: ContentPolicyStore;
  audit: AuditStore;
  items: PolicyItems;
  /** Tell the sockets following this item's policy (`policy:get`). */
  publish: (org: string, view: ContentPolicyView) => void;
  log: Logger;
}

/** The socket.io room of the sockets following one item's policy. */
export const policyRoom = (org: string, kind: PolicyKind, id: string): string =>
  `policy:${JSON.stringify([org, kind, id])}`;

const FLAG_OF: Record<Exclude<ContentAction, 'read'>, keyof ContentPolicyFields> = {
  download: 'download',
  export: 'export',
  record: 'record',
};

export interface ContentPolicyEvents {
  /**
   * A policy changed (after it was stored, audited and published to sockets): `here` on this node,
   * else on another node of the cluster (`changedElsewhere`) — each node then ends its own
   * connections the change shuts out.
   */
  changed: (org: string, view: ContentPolicyView, here: boolean) => void;
}

export class ContentPolicy extends TypedEmitter<ContentPolicyEvents> {
  readonly #o: ContentPolicyOptions;
  constructor(o: ContentPolicyOptions) {
    super();
    this.#o = o;
    this.onListenerError = (event, err) => o.log.error({ err, event }, 'content policy listener failed');
  }

  /** The effective policy of an item: stored (or the defaults) and the item's older switches. */
  async effective(org: string, kind: PolicyKind, id: string): Promise<ContentPolicyFields> {
    const [stored, legacy] = await Promise.all([this.#o.store.get(org, kind, id), this.#o.items.legacy(org, kind, id)]);
    const parsed = stored ? contentPolicySchema.partial().safeParse(stored.policy) : undefined;
    if (parsed && !parsed.success)
      this.#o.log.error({ org, kind, id }, 'content policy: a stored policy does not parse; the defaults apply');
    const base: ContentPolicyFields = { ...DEFAULT_CONTENT_POLICY, ...(parsed?.success ? parsed.data : {}) };
    return {
      ...base,
      download: base.download && legacy.download !== false,
      export: base.export && legacy.export !== false,
      record: base.record && legacy.record !== false,
    };
  }

  /**
   * A guest of an item: a person whose grants name particular rooms or documents only, never `*`
   * (someone invited to this item). For a channel: someone with no `*` room or document grant.
   */
  isGuest(principal: Principal, kind: PolicyKind): boolean {
    const g = principal.token.grants;
    const wildRooms = Object.hasOwn(g.rooms, '*');
    const wildDocs = Object.hasOwn(g.docs, '*');
    if (kind === 'room') return !wildRooms;
    if (kind === 'doc') return !wildDocs;
    return !wildRooms && !wildDocs;
  }

  /**
   * May `principal` do `action` with the stored content of this item? Throws POLICY_FORBIDS (the
   * refusal audited) otherwise; returns the effective policy (callers draw watermarks from it).
   * Without a principal (a signed link checked later by its service) only the policy's switches apply.
   */
  async check(
    principal: Principal | undefined,
    kind: PolicyKind,
    id: string,
    action: ContentAction,
    org = principal?.token.org,
  ): Promise<ContentPolicyFields> {
    if (org === undefined) throw new Error('content policy check without an organisation');
    const policy = await this.effective(org, kind, id);
    let reason: string | undefined;
    if (action !== 'read' && !policy[FLAG_OF[action]]) reason = `the ${kind}'s policy does not allow ${action}`;
    else if (principal && !policy.guests && this.isGuest(principal, kind))
      reason = `the ${kind}'s policy does not allow guests its content`;
    if (reason === undefined) return policy;
    if (principal && !(await this.#o.items.visible(principal, kind, id)))
      throw new MoimError('FORBIDDEN', `no access to this ${kind}`);
    await this.#o.audit.append({
      actor: principal?.sub ?? 'link',
      action: 'policy.refused',
      target: id,
      org,
      detail: { kind, action },
    });
    throw new MoimError('POLICY_FORBIDS', reason);
  }

  /** Read an item's policy (anyone of the org who names an existing item). */
  async get(principal: Principal, kind: PolicyKind, id: string): Promise<ContentPolicyView> {
    const org = principal.token.org;
    if (!(await this.#o.items.find(org, kind, id, principal.sub))) throw new MoimError('NOT_FOUND', `no such ${kind}`);
    return { kind, id, policy: await this.effective(org, kind, id) };
  }

  /** Change an item's policy (its owners and admins); audited; live sockets are told at once. */
  async set(
    principal: Principal,
    kind: PolicyKind,
    id: string,
    changes: Partial<ContentPolicyFields>,
  ): Promise<ContentPolicyView> {
    const org = principal.token.org;
    const item = await this.#o.items.find(org, kind, id, principal.sub);
    if (!item) throw new MoimError('NOT_FOUND', `no such ${kind}`);
    if (!item.owner && !principal.isAdmin)
      throw new MoimError('FORBIDDEN', `only the ${kind}'s owners and admins change its policy`);
    const before = await this.#o.store.get(org, kind, id);
    const previous = { ...DEFAULT_CONTENT_POLICY, ...(before?.policy as Partial<ContentPolicyFields> | undefined) };
    const next: ContentPolicyFields = { ...previous, ...changes };
    await this.#o.store.put({
      org,
      kind,
      target: id,
      policy: { ...next },
      updatedBy: principal.sub,
      updatedAt: Date.now(),
    });
    await this.#o.audit.append({
      actor: principal.sub,
      action: 'policy.set',
      target: id,
      org,
      detail: { kind, before: previous, after: next },
    });
    const view: ContentPolicyView = { kind, id, policy: await this.effective(org, kind, id) };
    this.#o.publish(org, view);
    this.safeEmit('changed', org, view, true);
    return view;
  }

  /** Another node of the cluster changed a policy (its `changed` event, relayed). */
  changedElsewhere(org: string, view: ContentPolicyView): void {
    this.safeEmit('changed', org, view, false);
  }
}
