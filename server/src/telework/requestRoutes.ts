/**
 * The HTTP routes of telework requests under `/telework/requests` (Bearer token). Each validates
 * its path and body with the protocol's schemas and calls the Requests service, which decides who
 * may do it. The routes and answers are documented in protocol/src/teleworkRequests.ts.
 */
import {
  approvalIdSchema,
  type TeleworkRequestListResponse,
  type TeleworkRequestResponse,
  teleworkCancelInputSchema,
  teleworkRequestInputSchema,
} from '@moim/protocol';
import type { TokenService } from '../auth/TokenService.ts';
import { type HttpRouter, type RouteContext, readJson } from '../http/HttpRouter.ts';
import type { Requests } from './Requests.ts';
import { pathParam, principalFrom } from './routeKit.ts';

export function addRequestRoutes(d: {
  router: HttpRouter;
  requests: Requests;
  tokens: TokenService;
  maxBodyBytes: number;
}): void {
  const principalOf = principalFrom(d.tokens);
  const idOf = (ctx: RouteContext): string => pathParam(ctx, 'id', approvalIdSchema, 'a request id (UUID)');

  d.router.add('POST', '/telework/requests', async (ctx) => {
    const principal = principalOf(ctx);
    const input = await readJson(ctx.req, teleworkRequestInputSchema, d.maxBodyBytes);
    const body: TeleworkRequestResponse = { request: await d.requests.apply(principal, input) };
    return { status: 201, body };
  });

  // before `/:id`: `mine` is not a request id
  d.router.add('GET', '/telework/requests/mine', async (ctx) => {
    const body: TeleworkRequestListResponse = { requests: await d.requests.mine(principalOf(ctx)) };
    return { body };
  });

  d.router.add('GET', '/telework/requests/:id', async (ctx) => {
    const principal = principalOf(ctx);
    const body: TeleworkRequestResponse = await d.requests.get(principal, idOf(ctx));
    return { body };
  });

  d.router.add('POST', '/telework/requests/:id/cancel', async (ctx) => {
    const principal = principalOf(ctx);
    const id = idOf(ctx);
    const input = await readJson(ctx.req, teleworkCancelInputSchema, d.maxBodyBytes);
    const body: TeleworkRequestResponse = { request: await d.requests.cancel(principal, id, input) };
    return { body };
  });
}
