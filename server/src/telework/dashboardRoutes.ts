/**
 * The HTTP routes of the manager's view (`/telework/dashboard`, Bearer token): the day's view as
 * JSON, and its people rows as CSV (UTF-8 with BOM, formula cells escaped). The Dashboard decides
 * what the caller sees. Routes and answers: protocol/src/dashboard.ts.
 */
import { dashboardQuerySchema, MoimError } from '@moim/protocol';
import type { TokenService } from '../auth/TokenService.ts';
import type { HttpRouter, RouteContext } from '../http/HttpRouter.ts';
import { CSV_CONTENT_TYPE, toCsv } from './csv.ts';
import { type Dashboard, dashboardCsvRows } from './Dashboard.ts';
import { principalFrom } from './routeKit.ts';

export function addDashboardRoutes(d: { router: HttpRouter; dashboard: Dashboard; tokens: TokenService }): void {
  const principalOf = principalFrom(d.tokens);
  const dayOf = (ctx: RouteContext): string | undefined => {
    const q = ctx.url.searchParams;
    const parsed = dashboardQuerySchema.safeParse(q.has('day') ? { day: q.get('day') } : {});
    if (!parsed.success) throw new MoimError('INVALID_PAYLOAD', 'day: a calendar day YYYY-MM-DD');
    return parsed.data.day;
  };

  d.router.add('GET', '/telework/dashboard', async (ctx) => {
    const principal = principalOf(ctx);
    // a DashboardView, serialized once per recomputation and shared (Dashboard.liveJson)
    const json = await d.dashboard.liveJson(principal, dayOf(ctx));
    ctx.res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(json),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    ctx.res.end(json);
    return undefined;
  });

  d.router.add('GET', '/telework/dashboard.csv', async (ctx) => {
    const principal = principalOf(ctx);
    const view = await d.dashboard.view(principal, dayOf(ctx));
    const bytes = Buffer.from(toCsv(dashboardCsvRows(view)), 'utf8');
    ctx.res.writeHead(200, {
      'content-type': CSV_CONTENT_TYPE,
      'content-length': bytes.length,
      'content-disposition': `attachment; filename="moim-dashboard-${view.day}.csv"`,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    ctx.res.end(bytes);
    return undefined;
  });
}
