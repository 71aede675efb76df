/**
 * The shared-documents service of this node, and its HTTP-facing operations (list, create,
 * policy, delete, export, versions, restore: `routes.ts` calls them). It wires the parts that own
 * the rest: `YjsConnections` (the `/yjs` sockets, their checks and `reauthorize`), `LoadedDocs`
 * (loading and unloading documents), `DocAccess` (grant checks), `DocMetrics`, `DocTitleNotices`
 * (a new title told to the people who have the document open).
 */
import {
  type DocContent,
  type DocInfo,
  type DocListSort,
  type DocPolicy,
  type DocVersionInfo,
  MoimError,
  ownValue,
} from '@moim/protocol';
import type { WebSocket } from 'ws';
import type { Principal } from '../auth/Principal.ts';
import type { TokenService } from '../auth/TokenService.ts';
import type { SharedPersonLimits } from '../lib/SharedPersonLimits.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../observability/Metrics.ts';
import type { AuditStore } from '../storage/AuditStore.ts';
import type { DocListAfter, DocRecord, DocRef, DocStore, StoredDocVersion } from '../storage/DocStore.ts';
import type { DocTitleStore, StoredDocTitle } from '../storage/DocTitleStore.ts';
import { contentOf, restoreUpdate, textUpdate } from './content.ts';
import { accessOf, DEFAULT_POLICY, type DocAccess, refOf, requireAccess, requireOwnerOrAdmin } from './DocAccess.ts';
import { DocGuards } from './DocGuards.ts';
import { cursorOf } from './DocListCursor.ts';
import { DocMergeWorker } from './DocMergeWorker.ts';
import { DocMetrics } from './DocMetrics.ts';
import type { DocRelay } from './DocRelay.ts';
import { DocTitleNotices } from './DocTitleNotices.ts';
import { DocTitles, randomDocName, type TitleFields, titleAsName, titleFields } from './DocTitles.ts';
import type { Document, DocumentLimits } from './Document.ts';
import { GroupCommitter } from './GroupCommitter.ts';
import { LoadedDocs } from './LoadedDocs.ts';
import { YjsConnections } from './YjsConnections.ts';

export interface DocServiceOptions {
  store: DocStore;
  /** Stored titles of documents (free text beside the name). */
  titles: DocTitleStore;
  audit: AuditStore;
  tokens: TokenService;
  metrics: Metrics;
  log: Logger;
  /** Cluster: the relay to other nodes serving the same documents (unset: one node). */
  relay?: DocRelay | undefined;
  /** Cluster: `/yjs` connections of a person counted on every node together (unset: this node's alone). */
  sharedLimits?: SharedPersonLimits | undefined;
  limits: DocumentLimits & {
    /** Documents one person may have open at once (MOIM_DOC_MAX_OPEN_PER_PERSON). */
    maxOpenPerPerson: number;
    /**
     * `/yjs` connections one person may have open at once, over all documents
     * (MOIM_DOC_MAX_CONNECTIONS_PER_PERSON); more are closed with 4429 `TOO_MANY_CONNECTIONS`.
     */
    maxConnectionsPerPerson: number;
  };
}

/**
 * Shared documents of this node: accepts y-websocket connections (after the token and grant
 * checks), loads a document on its first open and unloads it after its last client left and its
 * writes are committed, and serves the HTTP operations (list, create, delete, export, versions).
 * Every document lives in the namespace of one organisation: each operation and each `/yjs`
 * connection reaches only documents of its token's `org` (a grant never crosses organisations).
 */
export class DocService {
  readonly #opts: DocServiceOptions;
  readonly #store: DocStore;
  readonly #titles: DocTitles;
  readonly #committer: GroupCommitter;
  /** Compaction merges off the event loop. */
  readonly #merger: DocMergeWorker;
  readonly #docs: LoadedDocs;
  readonly #yjs: YjsConnections;
  /** Name prefixes other services own (`report.`): their guard decides who opens such a document. */
  readonly guards = new DocGuards();
  /** A rename told at once to the people who have the document open (`doc:title`); the app sets its delivery. */
  readonly titleNotices: DocTitleNotices;

  /** Wait (at most `timeoutMs`) until the compaction thread has booted; see `DocMergeWorker.warm`. */
  warm(timeoutMs: number): Promise<void> {
    return this.#merger.warm(timeoutMs);
  }

  constructor(opts: DocServiceOptions) {
    this.#opts = opts;
    this.#store = opts.store;
    this.#titles = new DocTitles(opts.titles);
    const metrics = new DocMetrics(opts.metrics);
    this.#committer = new GroupCommitter(opts.store, { onCommit: metrics.onCommit });
    const { store, log, limits } = opts;
    this.#merger = new DocMergeWorker(log);
    this.#docs = new LoadedDocs({
      store,
      committer: this.#committer,
      merger: this.#merger,
      limits,
      log,
      metrics,
      relay: opts.relay,
    });
    this.titleNotices = new DocTitleNotices({
      holders: (ref) => this.#docs.loadedNow(ref)?.connections() ?? [],
      guards: this.guards,
      log,
    });
    this.#yjs = new YjsConnections({
      tokens: opts.tokens,
      store,
      log,
      limits,
      docs: this.#docs,
      metrics,
      shared: opts.sharedLimits,
      guards: this.guards,
    });
  }

  /** Documents loaded in memory now (tests and the `moim_docs_loaded` gauge). */
  get loadedCount(): number {
    return this.#docs.size;
  }

  /** The sockets of every accepted connection (pings). */
  sockets(): IterableIterator<WebSocket> {
    return this.#yjs.sockets();
  }

  /** The loaded document, if it is loaded (tests, diagnostics). */
  async loaded(ref: DocRef): Promise<Document | undefined> {
    return this.#docs.loaded(ref);
  }

  /** Open `/yjs` connections of one person (tests, diagnostics). */
  connectionsOf(org: string, sub: string): number {
    return this.#yjs.connectionsOf(org, sub);
  }

  // ---------------------------------------------------------------- WebSocket

  /**
   * Take over an upgraded `/yjs/<docName>` socket. Refusals close it with a documented code
   * (`DOC_CLOSE`): 4404 bad name, 4401 no/invalid token, 4403 no grant, 4410 being deleted,
   * 4429 too many documents open or too many connections (`TOO_MANY_CONNECTIONS`). Never throws:
   * a failure inside closes the socket with 1011 and is logged (a throw here would reach the HTTP
   * server's `upgrade` listener).
   */
  accept(ws: WebSocket, requestUrl: string): void {
    this.#yjs.accept(ws, requestUrl);
  }

  /**
   * A person refreshed their socket.io token with other rights (the gateway's `reauth`): their
   * `/yjs` connections that the new token no longer allows end now instead of at their own token's
   * expiry. Lost read (or another organisation): 4403. Lost write only: 4500, so a client that
   * reconnects with its fresh token comes back read-only. Returns how many were closed.
   */
  reauthorize(previous: Principal, next: Principal): number {
    return this.#yjs.reauthorize(previous, next);
  }

  /** Close the `/yjs` connections of a signed-out session, or of a person whose access was revoked. */
  closeRevoked(org: string, sub: string, sid?: string): number {
    return this.#yjs.closeRevoked(org, sub, sid);
  }

  /**
   * The data-leak policy of a document shut guests out: this node's `/yjs` connections opened
   * without a `*` document grant end now (FORBIDDEN). Returns how many were closed.
   */
  closeGuests(org: string, name: string): number {
    return this.#yjs.closeWhere(
      org,
      name,
      (conn) => !conn.wildcardGrant,
      'the document’s policy no longer admits guests',
    );
  }

  // ---------------------------------------------------------------- HTTP operations
  // Every operation works in the namespace of the caller's organisation (`refOf`): a document of
  // another organisation is never found, listed, changed or versioned through it.

  /**
   * One page of the documents the caller may read, in `sort` order (`updated` by default: most
   * recently changed first), starting after `after` (a cursor `cursorOf` made for the same sort).
   */
  async list(
    principal: Principal,
    q: { sort?: DocListSort; after?: DocListAfter; limit: number },
  ): Promise<{ docs: DocInfo[]; next?: string }> {
    const sort = q.sort ?? 'updated';
    const grants = principal.token.grants.docs;
    // with a wildcard grant every record is a candidate (specific keys may narrow some away);
    // without one, only the names granted explicitly
    const wildcard = (ownValue(grants, '*') ?? []).length > 0;
    const names = wildcard ? undefined : Object.keys(grants).filter((n) => n !== '*');
    const pageSize = Math.max(q.limit, 100);
    const found: { record: DocRecord; access: DocAccess }[] = [];
    let after = q.after;
    let next: string | undefined;
    for (;;) {
      const records = await this.#store.list({
        org: principal.token.org,
        order: sort,
        ...(after ? { after } : {}),
        ...(names ? { names } : {}),
        limit: pageSize,
      });
      for (const record of records) {
        const access = accessOf(principal, record.name);
        if (!access || !(await this.guards.allows(principal, record.name))) continue;
        found.push({ record, access });
        if (found.length === q.limit) {
          next = cursorOf(sort, record);
          break;
        }
      }
      const last = records.at(-1);
      if (next !== undefined || records.length < pageSize || !last) break;
      after = { name: last.name, updatedAt: last.updatedAt, title: last.listTitle ?? last.name };
    }
    // the page's stored titles in one query
    const titles = await this.#titles.getMany(
      principal.token.org,
      found.map((f) => f.record.name),
    );
    const docs: DocInfo[] = [];
    for (const { record, access } of found)
      docs.push(this.#info(record, access, await this.#titleFor(principal, record.name, titles.get(record.name))));
    return next === undefined ? { docs } : { docs, next };
  }

  async get(principal: Principal, name: string): Promise<DocInfo> {
    const access = requireAccess(principal, name, 'read');
    await this.guards.require(principal, name);
    const ref = refOf(principal, name);
    const record = await this.#record(ref);
    return this.#info(record, access, await this.#titleFor(principal, name, await this.#titles.get(ref)));
  }

  /**
   * Create a document: by name (as before), by name and title, or by title only — then the server
   * picks the name: the title itself when it is a valid name that means nothing else and is free
   * (and granted), else `d-<random>`. `title` arrives normalised and checked (`parseDocTitle`).
   */
  async create(
    principal: Principal,
    input: { name?: string | undefined; title?: string | undefined; exportAllowed?: boolean | undefined },
  ): Promise<DocInfo> {
    const policy = { exportAllowed: input.exportAllowed ?? DEFAULT_POLICY.exportAllowed };
    let record: DocRecord | undefined;
    if (input.name !== undefined) {
      record = await this.#createNamed(principal, input.name, policy);
      if (!record) throw new MoimError('CONFLICT', `document ${input.name} already exists`);
    } else {
      if (input.title === undefined) throw new MoimError('INVALID_PAYLOAD', 'a name or a title is required');
      const asName = titleAsName(input.title);
      if (
        asName !== undefined &&
        accessOf(principal, asName) === 'write' &&
        !this.#docs.isDeleting(refOf(principal, asName)) &&
        (await this.guards.allows(principal, asName))
      )
        record = await this.#createNamed(principal, asName, policy);
      // a random name that is taken (72 bits: never in practice) is drawn again
      for (let attempt = 0; !record && attempt < 3; attempt++)
        record = await this.#createNamed(principal, randomDocName(), policy);
      if (!record) throw new MoimError('CONFLICT', 'no free document name was found');
    }
    const ref = refOf(principal, record.name);
    const stored = input.title === undefined ? undefined : await this.#titles.set(ref, input.title, principal.sub);
    await this.#opts.audit.append({
      actor: principal.sub,
      action: 'doc.create',
      target: record.name,
      detail: { org: ref.org, ...(stored ? { title: stored.title } : {}) },
    });
    return this.#info(record, 'write', titleFields(record.name, stored));
  }

  /** The new record, or undefined when a document of that name exists (write grant and guard checked). */
  async #createNamed(principal: Principal, name: string, policy: DocPolicy): Promise<DocRecord | undefined> {
    requireAccess(principal, name, 'write');
    await this.guards.require(principal, name);
    const ref = refOf(principal, name);
    if (this.#docs.isDeleting(ref)) throw new MoimError('CONFLICT', 'document is being deleted');
    const { record, created } = await this.#store.create({ ...ref, owner: principal.sub, policy });
    return created ? record : undefined;
  }

  /**
   * Rename: set the document's title (whoever may write it; `title` arrives normalised and
   * checked). Audited as `doc.rename` with the title before and after.
   */
  async rename(principal: Principal, name: string, title: string): Promise<DocInfo> {
    const access = requireAccess(principal, name, 'write');
    await this.guards.require(principal, name);
    const ref = refOf(principal, name);
    const record = await this.#record(ref);
    if (this.#docs.isDeleting(ref)) throw new MoimError('CONFLICT', 'document is being deleted');
    const before = titleFields(name, await this.#titles.get(ref)).title;
    const stored = await this.#titles.set(ref, title, principal.sub);
    await this.#opts.audit.append({
      actor: principal.sub,
      action: 'doc.rename',
      target: name,
      detail: { org: ref.org, title: stored.title, ...(before !== undefined ? { before } : {}) },
    });
    // whoever has it open (on any node) sees the new title at once
    await this.titleNotices.changed(
      ref.org,
      { name, title: stored.title, by: stored.updatedBy, at: stored.updatedAt },
      true,
    );
    return this.#info(record, access, titleFields(name, stored));
  }

  /**
   * A document another service makes for a person (a work report from its template): the record,
   * owned by `owner`, and its first content — `text` in the root text `body` the web app edits —
   * as one server update. Idempotent: an existing document is left as it is (false).
   */
  async createWithText(ref: DocRef, owner: string, text: string): Promise<boolean> {
    if (this.#docs.isDeleting(ref)) throw new MoimError('CONFLICT', 'document is being deleted');
    const { created } = await this.#store.create({ ...ref, owner, policy: DEFAULT_POLICY });
    if (!created) return false;
    await this.#docs.withDoc(ref, (doc) => doc.applyServerUpdate(textUpdate(text)));
    await this.#opts.audit.append({
      actor: owner,
      action: 'doc.create',
      target: ref.name,
      detail: { org: ref.org, from: 'template' },
    });
    return true;
  }

  async setPolicy(principal: Principal, name: string, policy: DocPolicy): Promise<DocInfo> {
    await this.guards.require(principal, name);
    const ref = refOf(principal, name);
    const record = await this.#record(ref);
    requireOwnerOrAdmin(principal, record);
    const updated = (await this.#store.setPolicy(ref, policy)) ?? record;
    await this.#opts.audit.append({
      actor: principal.sub,
      action: 'doc.policy',
      target: name,
      detail: { ...policy, org: ref.org },
    });
    const title = await this.#titleFor(principal, name, await this.#titles.get(ref));
    return this.#info(updated, accessOf(principal, name) ?? 'read', title);
  }

  /** Owner or admin: close every client (4410), wait for writes, delete record, updates and versions. */
  async delete(principal: Principal, name: string): Promise<void> {
    await this.guards.require(principal, name);
    const ref = refOf(principal, name);
    const record = await this.#record(ref);
    requireOwnerOrAdmin(principal, record);
    if (!this.#docs.startDelete(ref)) throw new MoimError('CONFLICT', 'document is being deleted');
    try {
      await this.#docs.unloadForDelete(ref);
      await this.#committer.flush();
      await this.#store.delete(ref);
      await this.#titles.delete(ref);
      await this.#opts.audit.append({ actor: principal.sub, action: 'doc.delete', target: name, ...orgDetail(ref) });
    } finally {
      this.#docs.endDelete(ref);
    }
  }

  /**
   * Export the stored content, with the document's title (a file's name). POLICY_FORBIDS where the
   * document's data-leak policy forbids export.
   */
  async export(
    principal: Principal,
    name: string,
    format: 'text' | 'json',
  ): Promise<DocContent & { title: string | undefined }> {
    requireAccess(principal, name, 'read');
    await this.guards.require(principal, name);
    const ref = refOf(principal, name);
    const record = await this.#record(ref);
    if (!record.policy.exportAllowed) {
      await this.#opts.audit.append({
        actor: principal.sub,
        action: 'doc.export-refused',
        target: name,
        detail: { format, org: ref.org },
      });
      throw new MoimError('POLICY_FORBIDS', `the policy of ${name} forbids export`);
    }
    const state = await this.#docs.withDoc(ref, (doc) => doc.committedState());
    await this.#opts.audit.append({
      actor: principal.sub,
      action: 'doc.export',
      target: name,
      detail: { format, org: ref.org },
    });
    return { ...contentOf(state), title: titleFields(name, await this.#titles.get(ref)).title };
  }

  async saveVersion(principal: Principal, name: string, label: string): Promise<DocVersionInfo> {
    requireAccess(principal, name, 'write');
    await this.guards.require(principal, name);
    const ref = refOf(principal, name);
    await this.#record(ref);
    return this.#docs.withDoc(ref, (doc) => doc.saveVersion({ label, auto: false, createdBy: principal.sub }));
  }

  async listVersions(
    principal: Principal,
    name: string,
    q: { beforeId?: number; limit: number },
  ): Promise<DocVersionInfo[]> {
    requireAccess(principal, name, 'read');
    await this.guards.require(principal, name);
    const ref = refOf(principal, name);
    await this.#record(ref);
    return this.#store.listVersions(ref, q);
  }

  async readVersion(
    principal: Principal,
    name: string,
    id: number,
  ): Promise<{ version: DocVersionInfo; content: DocContent }> {
    requireAccess(principal, name, 'read');
    await this.guards.require(principal, name);
    const ref = refOf(principal, name);
    const found = await this.#version(ref, id);
    // a past version's content leaves moim like an export: audited as a download
    await this.#opts.audit.append({
      actor: principal.sub,
      action: 'doc.version.read',
      target: name,
      detail: { org: ref.org, version: id },
    });
    return { version: found.version, content: contentOf(found.state) };
  }

  /**
   * Restore a version as a new change on top of the current content (history is kept): save the
   * current content as a version first (the undo point), then apply the change that turns the
   * current content into the version's; clients receive it like any other update.
   */
  async restoreVersion(
    principal: Principal,
    name: string,
    id: number,
  ): Promise<{ backup: DocVersionInfo; restored: DocVersionInfo }> {
    requireAccess(principal, name, 'write');
    await this.guards.require(principal, name);
    const ref = refOf(principal, name);
    const found = await this.#version(ref, id);
    const backup = await this.#docs.withDoc(ref, async (doc) => {
      const backupVersion = await doc.saveVersion({
        label: `before restoring ${found.version.label}`.slice(0, 200),
        auto: true,
        createdBy: principal.sub,
      });
      const current = await doc.committedState();
      const update = restoreUpdate(current, found.state);
      await doc.applyServerUpdate(update);
      return backupVersion;
    });
    await this.#opts.audit.append({
      actor: principal.sub,
      action: 'doc.restore',
      target: name,
      detail: { version: id, backup: backup.id, org: ref.org },
    });
    return { backup, restored: found.version };
  }

  // ---------------------------------------------------------------- helpers

  async #record(ref: DocRef): Promise<DocRecord> {
    const record = await this.#store.get(ref);
    if (!record) throw new MoimError('NOT_FOUND', `no document ${ref.name}`);
    return record;
  }

  async #version(ref: DocRef, id: number): Promise<{ version: StoredDocVersion; state: Uint8Array }> {
    const found = await this.#store.getVersion(ref, id);
    if (!found) throw new MoimError('NOT_FOUND', `no version ${id} of ${ref.name}`);
    return found;
  }

  /**
   * The title fields `principal` may see: none of a stored title where the document's data-leak
   * policy holds its content back from this person (a guest), else `titleFields`.
   */
  async #titleFor(principal: Principal, name: string, stored: StoredDocTitle | undefined): Promise<TitleFields> {
    if (stored && (await this.guards.hidesContent(principal, name))) return titleFields(name, undefined);
    return titleFields(name, stored);
  }

  #info(r: DocRecord, access: DocAccess, title: TitleFields): DocInfo {
    return {
      name: r.name,
      ...title,
      owner: r.owner,
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
      policy: r.policy,
      access,
    };
  }

  /** Close every client (1001), flush writes, unload every document. Idempotent. */
  async close(): Promise<void> {
    this.#yjs.close();
    await this.#docs.close();
    await this.#committer.flush();
    await this.#merger.close();
  }
}

/** The organisation in an audit entry's detail. */
function orgDetail(ref: DocRef): { detail: { org: string } } {
  return { detail: { org: ref.org } };
}
