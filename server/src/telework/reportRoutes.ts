/**
 * The HTTP routes of work reports under `/telework/reports` (Bearer token; the WorkReports service
 * decides who may do what). Paths, queries and bodies go through the protocol's schemas; the
 * routes and answers are documented in protocol/src/workReports.ts.
 */
import {
  MoimError,
  type WorkReportListResponse,
  type WorkReportResponse,
  type WorkReportSummary,
  workReportCommentSchema,
  workReportIdSchema,
  workReportListQuerySchema,
  workReportOpenSchema,
  workReportReviewSchema,
  workReportSummaryQuerySchema,
} from '@moim/protocol';
import type { TokenService } from '../auth/TokenService.ts';
import { type HttpRouter, type RouteContext, readJson } from '../http/HttpRouter.ts';
import { pathParam, principalFrom } from './routeKit.ts';
import type { WorkReports } from './WorkReports.ts';

export function addReportRoutes(d: {
  router: HttpRouter;
  reports: WorkReports;
  tokens: TokenService;
  maxBodyBytes: number;
}): void {
  const principalOf = principalFrom(d.tokens);
  const idOf = (ctx: RouteContext): string => pathParam(ctx, 'id', workReportIdSchema, 'a report id (UUID)');
  const query = (ctx: RouteContext, keys: readonly string[]) =>
    Object.fromEntries(keys.flatMap((k) => (ctx.url.searchParams.has(k) ? [[k, ctx.url.searchParams.get(k)]] : [])));

  d.router.add('POST', '/telework/reports', async (ctx) => {
    const principal = principalOf(ctx);
    const { day } = await readJson(ctx.req, workReportOpenSchema, d.maxBodyBytes);
    const { report, created } = await d.reports.open(principal, day);
    const body: WorkReportResponse = { report };
    return { status: created ? 201 : 200, body };
  });

  d.router.add('GET', '/telework/reports', async (ctx) => {
    const principal = principalOf(ctx);
    const parsed = workReportListQuerySchema.safeParse(query(ctx, ['from', 'to', 'sub']));
    if (!parsed.success)
      throw new MoimError('INVALID_PAYLOAD', 'from and to (YYYY-MM-DD, from ≤ to) are required; sub optional');
    const body: WorkReportListResponse = { reports: await d.reports.list(principal, parsed.data) };
    return { body };
  });

  d.router.add('GET', '/telework/reports/summary', async (ctx) => {
    const principal = principalOf(ctx);
    const parsed = workReportSummaryQuerySchema.safeParse(query(ctx, ['period', 'date']));
    if (!parsed.success)
      throw new MoimError('INVALID_PAYLOAD', 'period (day, week or month) and date (YYYY-MM-DD) are required');
    const body: WorkReportSummary = await d.reports.summary(principal, parsed.data.period, parsed.data.date);
    return { body };
  });

  d.router.add('GET', '/telework/reports/:id', async (ctx) => {
    const body: WorkReportResponse = { report: await d.reports.get(principalOf(ctx), idOf(ctx)) };
    return { body };
  });

  d.router
    .add('POST', '/telework/reports/:id/submit', async (ctx) => {
      const body: WorkReportResponse = { report: await d.reports.submit(principalOf(ctx), idOf(ctx)) };
      return { body };
    })
    .body('none');

  d.router.add('POST', '/telework/reports/:id/review', async (ctx) => {
    const principal = principalOf(ctx);
    const id = idOf(ctx);
    const { comment } = await readJson(ctx.req, workReportReviewSchema, d.maxBodyBytes);
    const body: WorkReportResponse = { report: await d.reports.review(principal, id, comment) };
    return { body };
  });

  d.router.add('POST', '/telework/reports/:id/comments', async (ctx) => {
    const principal = principalOf(ctx);
    const id = idOf(ctx);
    const { text } = await readJson(ctx.req, workReportCommentSchema, d.maxBodyBytes);
    const body: WorkReportResponse = { report: await d.reports.comment(principal, id, text) };
    return { body };
  });
}
