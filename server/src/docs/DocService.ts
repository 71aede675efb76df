import {
  type DocContent,
  type DocInfo,
  type DocPolicy,
  type DocVersionInfo,
  docNameSchema,
  MoimError,
  ownValue,
} from '@moim/protocol';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { WebSocket } from 'ws';
import { Principal, personKey } from '../auth/Principal.ts';
import type { TokenService } from '../auth/TokenService.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../observability/Metrics.ts';
import type { AuditStore } from '../storage/AuditStore.ts';
import type { DocRecord, DocRef, DocStore } from '../storage/DocStore.ts';
import { contentOf, restoreUpdate } from './content.ts';
import { closeSocket, DocConnection, type YjsCloseReason } from './DocConnection.ts';
import { Document, type DocumentDeps, type DocumentLimits } from './Document.ts';
import { GroupCommitter } from './GroupCommitter.ts';

export interface DocServiceOptions {
  store: DocStore;
  audit: AuditStore;
  tokens: TokenService;
  metrics: Metrics;
  log: Logger;
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

interface DocEntry {
  promise: Promise<Document>;
  doc?: Document;
}

const DEFAULT_POLICY: DocPolicy = { exportAllowed: true };

/** How often open connections are checked for an expired token. */
const EXPIRY_SWEEP_MS = 5_000;

/**
 * The key of a document in maps: a name is unique only inside its organisation (each org has its
 * own namespace). JSON keeps the pair unambiguous; Maps keep names like `constructor` harmless.
 */
const docKey = (ref: DocRef): string => JSON.stringify([ref.org, ref.name]);

/** The path of a `/yjs` request without its query (which carries the token): what may be logged. */
const pathOf = (requestUrl: string): string => (requestUrl.split('?', 1)[0] ?? '').slice(0, 300);

/** Frames a client may send before its document finished loading (then it is dropped). */
const MAX_EARLY_FRAMES = 64;

/**
 * Shared documents of this node: accepts y-websocket connections (after the token and grant
 * checks), loads a document on its first open and unloads it after its last client left and its
 * writes are committed, and serves the HTTP operations (list, create, delete, export, versions).
 * Every document lives in the namespace of one organisation: each operation and each `/yjs`
 * connection reaches only documents of its token's `org` (a grant never crosses organisations).
 */
export class DocService {
  readonly #opts: DocServiceOptions;
  readonly #log: Logger;
  readonly #store: DocStore;
  readonly #committer: GroupCommitter;
  /** Loaded (or loading) documents by `docKey`. An entry leaves the map when its document closes. */
  readonly #docs = new Map<string, DocEntry>();
  /**
   * Open documents per person (`personKey`): the name when it is one document on one connection
   * (the usual case, no Map per person), else each name with its connection count. A person has
   * one organisation, so names suffice.
   */
  readonly #openByPerson = new Map<string, string | Map<string, number>>();
  /** Open `/yjs` connections per person (`personKey`). */
  readonly #connsByPerson = new Map<string, number>();
  /** Documents being deleted, by `docKey`. */
  readonly #deleting = new Set<string>();
  /** Every connection, by its socket (the socket listeners are shared: no closure per connection). */
  readonly #conns = new Map<WebSocket, DocConnection>();
  readonly #onSocketMessage: (this: WebSocket, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void;
  readonly #onSocketClose: (this: WebSocket) => void;
  readonly #onSocketError: (this: WebSocket, err: Error) => void;
  /** What every document gets (one object for all of them). */
  readonly #docDeps: DocumentDeps;
  readonly #expirySweep: NodeJS.Timeout;
  /** Automatic versions of every loaded document (one timer for all of them). */
  readonly #versionSweep: NodeJS.Timeout | undefined;
  readonly #loadedGauge: Gauge;
  readonly #connGauge: Gauge;
  readonly #updates: Counter<'outcome'>;
  #closing = false;

  constructor(opts: DocServiceOptions) {
    this.#opts = opts;
    this.#log = opts.log;
    this.#store = opts.store;
    const registers = [opts.metrics.registry];
    this.#loadedGauge = new Gauge({ name: 'moim_docs_loaded', help: 'Documents loaded in memory', registers });
    this.#connGauge = new Gauge({ name: 'moim_doc_connections', help: 'Open y-websocket connections', registers });
    this.#updates = new Counter({
      name: 'moim_doc_updates_total',
      help: 'Document messages by outcome: stored, read_only, malformed, too_large, storage_error, pending (missing dependencies, refused), awareness (a client id of another connection, refused)',
      labelNames: ['outcome'],
      registers,
    });
    const commitSeconds = new Histogram({
      name: 'moim_doc_commit_seconds',
      help: 'Time to commit one group of document updates',
      buckets: [
        0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 1,
      ],
      registers,
    });
    const batchSize = new Histogram({
      name: 'moim_doc_commit_batch_updates',
      help: 'Updates per group commit',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 500],
      registers,
    });
    this.#expirySweep = setInterval(this.#sweepExpired, EXPIRY_SWEEP_MS);
    this.#expirySweep.unref();
    const versionMs = opts.limits.versionIntervalMs;
    if (versionMs > 0) {
      // an automatic version is at most this much later than its interval
      this.#versionSweep = setInterval(this.#sweepVersions, Math.min(Math.max(versionMs / 4, 50), 5_000));
      this.#versionSweep.unref();
    }
    this.#committer = new GroupCommitter(opts.store, {
      onCommit: (n, s) => {
        commitSeconds.observe(s);
        batchSize.observe(n);
      },
    });
    const conns = this.#conns;
    const service = this;
    this.#onSocketMessage = function (this: WebSocket, data, isBinary) {
      const conn = conns.get(this);
      if (conn) service.#onMessage(conn, data, isBinary);
    };
    this.#onSocketClose = function (this: WebSocket) {
      const conn = conns.get(this);
      if (conn) service.#onClose(conn);
    };
    const log = this.#log;
    // a socket error is always followed by its close (which cleans up): only noted
    this.#onSocketError = function (this: WebSocket, err: Error) {
      (conns.get(this)?.log ?? log).debug({ err }, 'document socket error');
    };
    this.#docDeps = {
      store: this.#store,
      committer: this.#committer,
      limits: opts.limits,
      log: this.#log, // every document log line carries `doc` itself
      onRefused: (outcome) => this.#updates.inc({ outcome }),
      onStored: (n) => this.#updates.inc({ outcome: 'stored' }, n),
      onIdle: (doc) => {
        void doc.close();
      },
      onClose: (doc) => {
        this.#loadedGauge.dec();
        const key = docKey(doc.ref);
        const entry = this.#docs.get(key);
        if (entry?.doc === doc) this.#docs.delete(key);
      },
    };
  }

  /** Documents loaded in memory now (tests and the `moim_docs_loaded` gauge). */
  get loadedCount(): number {
    return this.#docs.size;
  }

  /** The sockets of every accepted connection (pings). */
  sockets(): IterableIterator<WebSocket> {
    return this.#conns.keys();
  }

  /** The loaded document, if it is loaded (tests, diagnostics). */
  async loaded(ref: DocRef): Promise<Document | undefined> {
    return this.#docs.get(docKey(ref))?.promise;
  }

  /** Open `/yjs` connections of one person (tests, diagnostics). */
  connectionsOf(org: string, sub: string): number {
    return this.#connsByPerson.get(personKey(org, sub)) ?? 0;
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
    try {
      this.#accept(ws, requestUrl);
    } catch (err) {
      this.#log.error({ err, path: pathOf(requestUrl) }, 'taking over a document connection failed; closing it');
      const conn = this.#conns.get(ws);
      if (conn) this.#onClose(conn);
      closeSocket(ws, 'INTERNAL');
    }
  }

  #accept(ws: WebSocket, requestUrl: string): void {
    ws.on('error', this.#onSocketError);
    const url = new URL(requestUrl, 'http://localhost');
    const refuse = (reason: YjsCloseReason, detail?: string) => closeSocket(ws, reason, detail);
    if (this.#closing) {
      refuse('GOING_AWAY');
      return;
    }
    let name: string;
    try {
      name = decodeURIComponent(url.pathname.slice('/yjs/'.length));
    } catch {
      refuse('NOT_FOUND', 'bad document name');
      return;
    }
    if (!docNameSchema.safeParse(name).success) {
      refuse('NOT_FOUND', 'bad document name');
      return;
    }
    let principal: Principal;
    try {
      principal = new Principal(this.#opts.tokens.verify(url.searchParams.get('token') ?? undefined));
    } catch (err) {
      const code = err instanceof MoimError ? err.code : 'TOKEN_INVALID';
      refuse('UNAUTHORIZED', code);
      return;
    }
    // the document lives in the namespace of the token's organisation: grants name documents there
    const ref: DocRef = { org: principal.token.org, name };
    const canWrite = principal.hasDoc(name, 'write');
    if (!canWrite && !principal.hasDoc(name, 'read')) {
      refuse('FORBIDDEN', `no grant for ${name}`);
      return;
    }
    if (this.#deleting.has(docKey(ref))) {
      refuse('GONE');
      return;
    }
    const person = principal.key;
    const maxConns = this.#opts.limits.maxConnectionsPerPerson;
    if ((this.#connsByPerson.get(person) ?? 0) >= maxConns) {
      refuse('TOO_MANY_CONNECTIONS', `TOO_MANY_CONNECTIONS (at most ${maxConns} per person)`);
      return;
    }
    if (!this.#addOpen(person, name)) {
      refuse('TOO_MANY_DOCUMENTS', `at most ${this.#opts.limits.maxOpenPerPerson}`);
      return;
    }
    // keep only what the connection needs (org, sub, grant, expiry): connections are many
    const conn = new DocConnection({
      ws,
      org: ref.org,
      sub: principal.sub,
      docName: name,
      canWrite,
      expiresAt: principal.token.exp * 1000,
      log: this.#log,
    });
    this.#conns.set(ws, conn);
    this.#connsByPerson.set(person, (this.#connsByPerson.get(person) ?? 0) + 1);
    this.#connGauge.inc();
    ws.on('message', this.#onSocketMessage);
    ws.on('close', this.#onSocketClose);
    void this.#join(conn);
  }

  async #join(conn: DocConnection): Promise<void> {
    const ref: DocRef = { org: conn.org, name: conn.docName };
    const name = conn.docName;
    try {
      if (conn.canWrite && !(await this.#store.get(ref))) {
        await this.#store.create({ ...ref, owner: conn.sub, policy: DEFAULT_POLICY });
      }
      const opened = await this.#open(ref);
      if (conn.closed) {
        opened.release();
        return;
      }
      opened.addConnection(conn);
      opened.release();
      conn.doc = opened;
      const frames = conn.early ?? [];
      conn.early = undefined;
      for (const f of frames) opened.handleMessage(conn, f);
      this.#log.debug({ org: conn.org, doc: name, sub: conn.sub, canWrite: conn.canWrite }, 'document client joined');
    } catch (err) {
      this.#log.error({ err, org: conn.org, doc: name, sub: conn.sub }, 'opening a document failed');
      conn.close('RELOAD', 'could not open the document');
    }
  }

  #onMessage(conn: DocConnection, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (!isBinary) {
      conn.close('MALFORMED', 'binary frames only');
      return;
    }
    const frame = toUint8Array(data);
    if (conn.doc) conn.doc.handleMessage(conn, frame);
    else if (conn.closed) return;
    else if ((conn.early?.length ?? 0) < MAX_EARLY_FRAMES) {
      conn.early ??= [];
      conn.early.push(frame);
    } else conn.close('TOO_LARGE', 'too many messages before the document loaded');
  }

  #onClose(conn: DocConnection): void {
    conn.markClosed();
    if (!this.#conns.delete(conn.ws)) return;
    this.#connGauge.dec();
    const person = conn.personKey;
    const n = this.#connsByPerson.get(person) ?? 0;
    if (n > 1) this.#connsByPerson.set(person, n - 1);
    else this.#connsByPerson.delete(person);
    this.#removeOpen(person, conn.docName);
    conn.doc?.removeConnection(conn);
    conn.doc = undefined;
  }

  /**
   * A person refreshed their socket.io token with other rights (the gateway's `reauth`): their
   * `/yjs` connections that the new token no longer allows end now instead of at their own token's
   * expiry. Lost read (or another organisation): 4403. Lost write only: 4500, so a client that
   * reconnects with its fresh token comes back read-only. Returns how many were closed.
   */
  reauthorize(previous: Principal, next: Principal): number {
    const { org, sub } = previous.token;
    let closed = 0;
    for (const conn of [...this.#conns.values()]) {
      if (conn.org !== org || conn.sub !== sub) continue;
      const sameOrg = next.token.org === org;
      if (!sameOrg || !(next.hasDoc(conn.docName, 'read') || next.hasDoc(conn.docName, 'write'))) {
        conn.close('FORBIDDEN', 'the refreshed token no longer grants this document');
        closed++;
      } else if (conn.canWrite && !next.hasDoc(conn.docName, 'write')) {
        conn.close('RELOAD', 'the refreshed token no longer grants writing');
        closed++;
      }
    }
    return closed;
  }

  /** Token expiry ends a session (checked every few seconds): 4401 tells the client to come back with a fresh token. */
  #sweepExpired = (): void => {
    const now = Date.now();
    for (const conn of this.#conns.values()) if (conn.expiresAt <= now) conn.close('UNAUTHORIZED', 'TOKEN_EXPIRED');
  };

  #sweepVersions = (): void => {
    const now = Date.now();
    for (const entry of this.#docs.values()) entry.doc?.saveVersionIfDue(now);
  };

  #addOpen(person: string, name: string): boolean {
    let open = this.#openByPerson.get(person);
    if (open === undefined) {
      this.#openByPerson.set(person, name);
      return true;
    }
    if (typeof open === 'string') {
      const only = open;
      open = new Map([[only, 1]]);
      this.#openByPerson.set(person, open);
    }
    const n = open.get(name);
    if (n === undefined && open.size >= this.#opts.limits.maxOpenPerPerson) return false;
    open.set(name, (n ?? 0) + 1);
    return true;
  }

  #removeOpen(person: string, name: string): void {
    const open = this.#openByPerson.get(person);
    if (open === undefined) return;
    if (typeof open === 'string') {
      if (open === name) this.#openByPerson.delete(person);
      return;
    }
    const n = open.get(name);
    if (n === undefined) return;
    if (n > 1) open.set(name, n - 1);
    else open.delete(name);
    if (open.size === 0) this.#openByPerson.delete(person);
  }

  /** Load (or reuse) a document and retain it once; the caller releases it. */
  async #open(ref: DocRef): Promise<Document> {
    const key = docKey(ref);
    for (;;) {
      if (this.#closing) throw new MoimError('UNAVAILABLE', 'server is shutting down');
      let entry = this.#docs.get(key);
      if (!entry) {
        const fresh: DocEntry = { promise: this.#load(ref) };
        entry = fresh;
        this.#docs.set(key, fresh);
        fresh.promise.then(
          (doc) => {
            fresh.doc = doc;
          },
          // the failure reaches (and is logged by) whoever awaits `entry.promise` below
          () => {
            if (this.#docs.get(key) === fresh) this.#docs.delete(key);
          },
        );
      }
      const doc = await entry.promise;
      if (doc.closing) {
        await doc.closing;
        continue;
      }
      doc.retain();
      return doc;
    }
  }

  async #load(ref: DocRef): Promise<Document> {
    const doc = await Document.load(ref, this.#docDeps);
    this.#loadedGauge.inc();
    return doc;
  }

  /** Run `fn` with the document loaded (loading it if needed) and unload it after if nobody else uses it. */
  async #withDoc<T>(ref: DocRef, fn: (doc: Document) => Promise<T>): Promise<T> {
    const doc = await this.#open(ref);
    try {
      return await fn(doc);
    } finally {
      doc.release();
    }
  }

  // ---------------------------------------------------------------- HTTP operations
  // Every operation works in the namespace of the caller's organisation (`refOf`): a document of
  // another organisation is never found, listed, changed or versioned through it.

  async list(principal: Principal, q: { after?: string; limit: number }): Promise<{ docs: DocInfo[]; next?: string }> {
    const grants = principal.token.grants.docs;
    // with a wildcard grant every record is a candidate (specific keys may narrow some away);
    // without one, only the names granted explicitly
    const wildcard = (ownValue(grants, '*') ?? []).length > 0;
    const names = wildcard ? undefined : Object.keys(grants).filter((n) => n !== '*');
    const pageSize = Math.max(q.limit, 100);
    const out: DocInfo[] = [];
    let after = q.after;
    for (;;) {
      const records = await this.#store.list({
        org: principal.token.org,
        ...(after ? { after } : {}),
        ...(names ? { names } : {}),
        limit: pageSize,
      });
      for (const r of records) {
        const access = this.#access(principal, r.name);
        if (!access) continue;
        out.push(this.#info(r, access));
        if (out.length === q.limit) return { docs: out, next: r.name };
      }
      if (records.length < pageSize) return { docs: out };
      after = records.at(-1)?.name;
    }
  }

  async get(principal: Principal, name: string): Promise<DocInfo> {
    const access = this.#requireAccess(principal, name, 'read');
    return this.#info(await this.#record(refOf(principal, name)), access);
  }

  async create(principal: Principal, input: { name: string; exportAllowed?: boolean | undefined }): Promise<DocInfo> {
    this.#requireAccess(principal, input.name, 'write');
    const ref = refOf(principal, input.name);
    if (this.#deleting.has(docKey(ref))) throw new MoimError('CONFLICT', 'document is being deleted');
    const { record, created } = await this.#store.create({
      ...ref,
      owner: principal.sub,
      policy: { exportAllowed: input.exportAllowed ?? DEFAULT_POLICY.exportAllowed },
    });
    if (!created) throw new MoimError('CONFLICT', `document ${input.name} already exists`);
    await this.#opts.audit.append({
      actor: principal.sub,
      action: 'doc.create',
      target: input.name,
      ...orgDetail(ref),
    });
    return this.#info(record, 'write');
  }

  async setPolicy(principal: Principal, name: string, policy: DocPolicy): Promise<DocInfo> {
    const ref = refOf(principal, name);
    const record = await this.#record(ref);
    this.#requireOwnerOrAdmin(principal, record);
    const updated = (await this.#store.setPolicy(ref, policy)) ?? record;
    await this.#opts.audit.append({
      actor: principal.sub,
      action: 'doc.policy',
      target: name,
      detail: { ...policy, org: ref.org },
    });
    return this.#info(updated, this.#access(principal, name) ?? 'read');
  }

  /** Owner or admin: close every client (4410), wait for writes, delete record, updates and versions. */
  async delete(principal: Principal, name: string): Promise<void> {
    const ref = refOf(principal, name);
    const record = await this.#record(ref);
    this.#requireOwnerOrAdmin(principal, record);
    const key = docKey(ref);
    if (this.#deleting.has(key)) throw new MoimError('CONFLICT', 'document is being deleted');
    this.#deleting.add(key);
    try {
      const entry = this.#docs.get(key);
      if (entry) {
        const doc = await entry.promise.catch((err: unknown) => {
          // nothing loaded, so nothing to close; the load failure itself was logged where it was awaited
          this.#log.debug({ err, org: ref.org, doc: name }, 'deleting a document whose load failed');
          return undefined;
        });
        await doc?.close('GONE', { saveVersion: false });
      }
      await this.#committer.flush();
      await this.#store.delete(ref);
      await this.#opts.audit.append({ actor: principal.sub, action: 'doc.delete', target: name, ...orgDetail(ref) });
    } finally {
      this.#deleting.delete(key);
    }
  }

  /** Export the stored content. POLICY_FORBIDS where the document's data-leak policy forbids export. */
  async export(principal: Principal, name: string, format: 'text' | 'json'): Promise<DocContent> {
    this.#requireAccess(principal, name, 'read');
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
    const state = await this.#withDoc(ref, (doc) => doc.committedState());
    await this.#opts.audit.append({
      actor: principal.sub,
      action: 'doc.export',
      target: name,
      detail: { format, org: ref.org },
    });
    return contentOf(state);
  }

  async saveVersion(principal: Principal, name: string, label: string): Promise<DocVersionInfo> {
    this.#requireAccess(principal, name, 'write');
    const ref = refOf(principal, name);
    await this.#record(ref);
    return this.#withDoc(ref, (doc) => doc.saveVersion({ label, auto: false, createdBy: principal.sub }));
  }

  async listVersions(
    principal: Principal,
    name: string,
    q: { beforeId?: number; limit: number },
  ): Promise<DocVersionInfo[]> {
    this.#requireAccess(principal, name, 'read');
    const ref = refOf(principal, name);
    await this.#record(ref);
    return this.#store.listVersions(ref, q);
  }

  async readVersion(
    principal: Principal,
    name: string,
    id: number,
  ): Promise<{ version: DocVersionInfo; content: DocContent }> {
    this.#requireAccess(principal, name, 'read');
    const found = await this.#store.getVersion(refOf(principal, name), id);
    if (!found) throw new MoimError('NOT_FOUND', `no version ${id} of ${name}`);
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
    this.#requireAccess(principal, name, 'write');
    const ref = refOf(principal, name);
    const found = await this.#store.getVersion(ref, id);
    if (!found) throw new MoimError('NOT_FOUND', `no version ${id} of ${name}`);
    const backup = await this.#withDoc(ref, async (doc) => {
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

  #access(principal: Principal, name: string): 'read' | 'write' | undefined {
    if (principal.hasDoc(name, 'write')) return 'write';
    if (principal.hasDoc(name, 'read')) return 'read';
    return undefined;
  }

  #requireAccess(principal: Principal, name: string, need: 'read' | 'write'): 'read' | 'write' {
    const access = this.#access(principal, name);
    if (!access || (need === 'write' && access !== 'write')) {
      throw new MoimError('FORBIDDEN', `no ${need} grant for document ${name}`);
    }
    return access;
  }

  #requireOwnerOrAdmin(principal: Principal, record: DocRecord): void {
    if (record.owner !== principal.sub && !principal.isAdmin) {
      throw new MoimError('FORBIDDEN', 'only the owner or an admin may do this');
    }
  }

  async #record(ref: DocRef): Promise<DocRecord> {
    const record = await this.#store.get(ref);
    if (!record) throw new MoimError('NOT_FOUND', `no document ${ref.name}`);
    return record;
  }

  #info(r: DocRecord, access: 'read' | 'write'): DocInfo {
    return { name: r.name, owner: r.owner, createdAt: r.createdAt, updatedAt: r.updatedAt, policy: r.policy, access };
  }

  /** Close every client (1001), flush writes, unload every document. Idempotent. */
  async close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#expirySweep);
    clearInterval(this.#versionSweep);
    for (const conn of this.#conns.values()) conn.close('GOING_AWAY');
    const docs = await Promise.all(
      [...this.#docs.values()].map((e) =>
        e.promise.catch((err: unknown) => {
          // a document that failed to load has nothing to close
          this.#log.debug({ err }, 'a document failed to load before closing');
          return undefined;
        }),
      ),
    );
    await Promise.all(docs.map((d) => d?.close('GOING_AWAY')));
    await this.#committer.flush();
  }
}

/** A document of the caller's organisation. */
function refOf(principal: Principal, name: string): DocRef {
  return { org: principal.token.org, name };
}

/** The organisation in an audit entry's detail. */
function orgDetail(ref: DocRef): { detail: { org: string } } {
  return { detail: { org: ref.org } };
}

function toUint8Array(data: Buffer | ArrayBuffer | Buffer[]): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}
