/** The HTTP routes of shared documents under `/docs` (Bearer token): each validates and calls the DocService. */
import {
  createDocRequest,
  DOC_EXPORT_FORMATS,
  DOC_LIST_SORTS,
  type DocExportFormat,
  type DocListResponse,
  type DocRestoreResponse,
  type DocVersionResponse,
  docNameSchema,
  MoimError,
  renameDocRequest,
  saveVersionRequest,
  updateDocRequest,
} from '@moim/protocol';
import { Principal } from '../auth/Principal.ts';
import type { TokenService } from '../auth/TokenService.ts';
import { bearerToken, type HttpRouter, type RouteContext, readJson } from '../http/HttpRouter.ts';
import { parseCursor } from './DocListCursor.ts';
import type { DocService } from './DocService.ts';
import { parseDocTitle } from './DocTitles.ts';

/**
 * HTTP API of shared documents (Bearer token):
 * - `GET /docs?sort=updated|title|name&after=&limit=` documents the caller may read (most recently changed
 *   first by default); `after` is the previous page's `next` cursor
 * - `POST /docs` `{ name?, title?, exportAllowed? }` create (write grant) — 409 if the name exists; with a
 *   title only the server picks the name (`d-<random>`, or the title when it is a free valid name)
 * - `GET /docs/:name` · `PATCH /docs/:name` `{ exportAllowed }` (owner/admin) · `DELETE /docs/:name` (owner/admin)
 * - `PUT /docs/:name/title` `{ title }` rename (write grant) — 400 INVALID_TITLE for a bad title
 * - `GET /docs/:name/export?format=text|json` — 403 POLICY_FORBIDS where the policy forbids export; the
 *   JSON carries the title, the text file is named after it
 * - `GET|POST /docs/:name/versions` list / save `{ label }` · `GET /docs/:name/versions/:id` content
 * - `POST /docs/:name/versions/:id/restore` restore as a new change (write grant)
 */
export function addDocRoutes(d: {
  router: HttpRouter;
  service: DocService;
  tokens: TokenService;
  maxBodyBytes: number;
}): void {
  const principalOf = ({ req, url }: RouteContext): Principal => new Principal(d.tokens.verify(bearerToken(req, url)));
  const nameOf = (ctx: RouteContext): string => {
    const parsed = docNameSchema.safeParse(ctx.params.name);
    if (!parsed.success) throw new MoimError('NOT_FOUND', 'no such document');
    return parsed.data;
  };
  const idOf = (ctx: RouteContext): number => {
    const id = Number(ctx.params.id);
    if (!Number.isSafeInteger(id) || id < 1) throw new MoimError('NOT_FOUND', 'no such version');
    return id;
  };
  // routes that return a document's stored content: the router checks its data-leak policy first
  const docContent = (action: 'export' | 'read') => ({
    content: { kind: 'doc' as const, action, target: (ctx: RouteContext) => ({ id: nameOf(ctx) }) },
  });
  const limitOf = (url: URL, def: number, max: number): number => {
    const raw = url.searchParams.get('limit');
    if (raw === null) return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new MoimError('INVALID_PAYLOAD', `limit: 1 to ${max}`);
    return n;
  };

  d.router.add('GET', '/docs', async (ctx) => {
    const principal = principalOf(ctx);
    const rawSort = ctx.url.searchParams.get('sort') ?? 'updated';
    const sort = DOC_LIST_SORTS.find((s) => s === rawSort);
    if (!sort) throw new MoimError('INVALID_PAYLOAD', `sort: ${DOC_LIST_SORTS.join(', ')}`);
    const after = ctx.url.searchParams.get('after') || undefined;
    const body: DocListResponse = await d.service.list(principal, {
      sort,
      ...(after ? { after: parseCursor(sort, after) } : {}),
      limit: limitOf(ctx.url, 100, 500),
    });
    return { body };
  });

  d.router.add('POST', '/docs', async (ctx) => {
    const principal = principalOf(ctx);
    const input = await readJson(ctx.req, createDocRequest, d.maxBodyBytes);
    const title = input.title === undefined ? undefined : parseDocTitle(input.title);
    return { status: 201, body: { doc: await d.service.create(principal, { ...input, title }) } };
  });

  d.router.add('GET', '/docs/:name', async (ctx) => ({
    body: { doc: await d.service.get(principalOf(ctx), nameOf(ctx)) },
  }));

  d.router.add('PATCH', '/docs/:name', async (ctx) => {
    const principal = principalOf(ctx);
    const input = await readJson(ctx.req, updateDocRequest, d.maxBodyBytes);
    return { body: { doc: await d.service.setPolicy(principal, nameOf(ctx), input) } };
  });

  d.router.add('PUT', '/docs/:name/title', async (ctx) => {
    const principal = principalOf(ctx);
    const name = nameOf(ctx);
    const input = await readJson(ctx.req, renameDocRequest, d.maxBodyBytes);
    return { body: { doc: await d.service.rename(principal, name, parseDocTitle(input.title)) } };
  });

  d.router.add('DELETE', '/docs/:name', async (ctx) => {
    await d.service.delete(principalOf(ctx), nameOf(ctx));
    return { body: { deleted: true } };
  });

  d.router.add(
    'GET',
    '/docs/:name/export',
    async (ctx) => {
      const principal = principalOf(ctx);
      const name = nameOf(ctx);
      const format = (ctx.url.searchParams.get('format') ?? 'text') as DocExportFormat;
      if (!DOC_EXPORT_FORMATS.includes(format)) throw new MoimError('INVALID_PAYLOAD', 'format: text or json');
      const content = await d.service.export(principal, name, format);
      if (format === 'json')
        return {
          body: {
            name,
            ...(content.title === undefined ? {} : { title: content.title }),
            exportedAt: Date.now(),
            content: content.json,
          },
        };
      ctx.res.writeHead(200, {
        'content-type': 'text/plain; charset=utf-8',
        'content-disposition': attachmentOf(name, content.title),
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      });
      ctx.res.end(content.text);
      return undefined;
    },
    docContent('export'),
  );

  d.router.add(
    'GET',
    '/docs/:name/versions',
    async (ctx) => {
      const principal = principalOf(ctx);
      const before = ctx.url.searchParams.get('before');
      const beforeId = before === null ? undefined : Number(before);
      if (beforeId !== undefined && !Number.isSafeInteger(beforeId))
        throw new MoimError('INVALID_PAYLOAD', 'before: a version id');
      const versions = await d.service.listVersions(principal, nameOf(ctx), {
        ...(beforeId !== undefined ? { beforeId } : {}),
        limit: limitOf(ctx.url, 50, 500),
      });
      return { body: { versions } };
    },
    docContent('read'),
  );

  d.router.add('POST', '/docs/:name/versions', async (ctx) => {
    const principal = principalOf(ctx);
    const input = await readJson(ctx.req, saveVersionRequest, d.maxBodyBytes);
    return { status: 201, body: { version: await d.service.saveVersion(principal, nameOf(ctx), input.label) } };
  });

  d.router.add(
    'GET',
    '/docs/:name/versions/:id',
    async (ctx) => {
      const body: DocVersionResponse = await d.service.readVersion(principalOf(ctx), nameOf(ctx), idOf(ctx));
      return { body };
    },
    docContent('export'),
  );

  d.router
    .add('POST', '/docs/:name/versions/:id/restore', async (ctx) => {
      const body: DocRestoreResponse = await d.service.restoreVersion(principalOf(ctx), nameOf(ctx), idOf(ctx));
      return { body };
    })
    .body('none');
}

/**
 * The `content-disposition` of a text export: the name (ASCII, always safe) as `filename`, and the
 * title, when there is one, as the RFC 6266/5987 `filename*` browsers prefer (percent-encoded UTF-8:
 * nothing of the title can end the header or the parameter).
 */
function attachmentOf(name: string, title: string | undefined): string {
  const plain = `attachment; filename="${name}.txt"`;
  if (title === undefined) return plain;
  const file = `${title.replace(/[\\/:*?"<>|]/g, '_')}.txt`;
  return `${plain}; filename*=UTF-8''${encodeURIComponent(file).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}
