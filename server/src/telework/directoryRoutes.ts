/**
 * The HTTP routes of the telework org directory (`/telework/directory`) and holiday calendar
 * (`/telework/holidays`), Bearer token. Each validates its path, query and body with the
 * protocol's schemas (a `sub` such as `__proto__` is INVALID_PAYLOAD) and calls the OrgDirectory
 * service, which decides who may do it. The CSV import takes `text/csv` in UTF-8 up to its own
 * byte bound; the export answers CSV as a download. Routes and answers: protocol/src/directory.ts.
 */
import {
  calendarDaySchema,
  type DirectoryListResponse,
  type DirectoryPersonResponse,
  directoryPersonInputSchema,
  directorySubSchema,
  type HolidayListResponse,
  holidayInputSchema,
  holidayYearQuerySchema,
  MoimError,
} from '@moim/protocol';
import type { TokenService } from '../auth/TokenService.ts';
import { type HttpRouter, type RouteContext, readBody, readJson } from '../http/HttpRouter.ts';
import { CSV_CONTENT_TYPE } from './csv.ts';
import type { OrgDirectory } from './OrgDirectory.ts';
import { principalFrom } from './routeKit.ts';

export function addDirectoryRoutes(d: {
  router: HttpRouter;
  directory: OrgDirectory;
  tokens: TokenService;
  maxBodyBytes: number;
  /** Largest CSV import body (`MOIM_TELEWORK_DIRECTORY_IMPORT_MAX_BYTES`). */
  importMaxBytes: number;
}): void {
  const principalOf = principalFrom(d.tokens);
  const subOf = (ctx: RouteContext): string => {
    const parsed = directorySubSchema.safeParse(ctx.params.sub);
    if (!parsed.success) throw new MoimError('INVALID_PAYLOAD', 'sub: letters, digits and . _ @ -, 1–128');
    return parsed.data;
  };
  const dayOf = (ctx: RouteContext): string => {
    const parsed = calendarDaySchema.safeParse(ctx.params.day);
    if (!parsed.success) throw new MoimError('INVALID_PAYLOAD', 'day: a calendar day YYYY-MM-DD');
    return parsed.data;
  };

  // the fixed paths first: `import` and `export.csv` are not subs
  d.router
    .add('POST', '/telework/directory/import', async (ctx) => {
      const principal = principalOf(ctx);
      const [type, ...params] = (ctx.req.headers['content-type'] ?? '').split(';').map((p) => p.trim().toLowerCase());
      const charset = params
        .find((p) => p.startsWith('charset='))
        ?.slice('charset='.length)
        .replaceAll('"', '');
      if (type !== 'text/csv' || (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8'))
        throw new MoimError('UNSUPPORTED_MEDIA_TYPE', 'an import is text/csv in UTF-8');
      const raw = await readBody(ctx.req, d.importMaxBytes);
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
      } catch (err) {
        throw new MoimError('INVALID_PAYLOAD', 'the file is not UTF-8', { cause: err });
      }
      return { body: await d.directory.importCsv(principal, text) };
    })
    .body('csv');

  d.router.add('GET', '/telework/directory/export.csv', async (ctx) => {
    const csv = await d.directory.exportCsv(principalOf(ctx));
    const bytes = Buffer.from(csv, 'utf8');
    ctx.res.writeHead(200, {
      'content-type': CSV_CONTENT_TYPE,
      'content-length': bytes.length,
      'content-disposition': 'attachment; filename="directory.csv"',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    ctx.res.end(bytes);
    return undefined;
  });

  d.router.add('GET', '/telework/directory', async (ctx) => {
    const body: DirectoryListResponse = { people: await d.directory.list(principalOf(ctx)) };
    return { body };
  });

  d.router.add('GET', '/telework/directory/:sub', async (ctx) => {
    const principal = principalOf(ctx);
    const body: DirectoryPersonResponse = { person: await d.directory.read(principal, subOf(ctx)) };
    return { body };
  });

  d.router.add('PUT', '/telework/directory/:sub', async (ctx) => {
    const principal = principalOf(ctx);
    const sub = subOf(ctx);
    const input = await readJson(ctx.req, directoryPersonInputSchema, d.maxBodyBytes);
    const result = await d.directory.put(principal, sub, input);
    return { status: result.created ? 201 : 200, body: result };
  });

  d.router.add('DELETE', '/telework/directory/:sub', async (ctx) => {
    const principal = principalOf(ctx);
    await d.directory.remove(principal, subOf(ctx));
    return { body: { deleted: true } };
  });

  d.router.add('GET', '/telework/holidays', async (ctx) => {
    const principal = principalOf(ctx);
    const parsed = holidayYearQuerySchema.safeParse({ year: ctx.url.searchParams.get('year') ?? '' });
    if (!parsed.success) throw new MoimError('INVALID_PAYLOAD', 'year: a year such as 2026 is required');
    const body: HolidayListResponse = { holidays: await d.directory.holidays(principal, parsed.data.year) };
    return { body };
  });

  d.router.add('PUT', '/telework/holidays/:day', async (ctx) => {
    const principal = principalOf(ctx);
    const day = dayOf(ctx);
    const input = await readJson(ctx.req, holidayInputSchema, d.maxBodyBytes);
    const result = await d.directory.putHoliday(principal, day, input);
    return { status: result.created ? 201 : 200, body: result };
  });

  d.router.add('DELETE', '/telework/holidays/:day', async (ctx) => {
    const principal = principalOf(ctx);
    await d.directory.deleteHoliday(principal, dayOf(ctx));
    return { body: { deleted: true } };
  });
}
