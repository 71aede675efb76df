/**
 * The HTTP routes of telework sites and places under `/telework/sites` (Bearer token): each
 * validates its path and body with the protocol's schemas and calls the Sites service, which
 * decides who may do it. The routes and answers are documented in protocol/src/telework.ts.
 */
import {
  MoimError,
  placeInputSchema,
  type SiteListResponse,
  type SiteResponse,
  siteInputSchema,
  teleworkIdSchema,
} from '@moim/protocol';
import { Principal } from '../auth/Principal.ts';
import type { TokenService } from '../auth/TokenService.ts';
import { bearerToken, type HttpRouter, type RouteContext, readJson } from '../http/HttpRouter.ts';
import type { Sites } from './Sites.ts';

export function addTeleworkRoutes(d: {
  router: HttpRouter;
  sites: Sites;
  tokens: TokenService;
  maxBodyBytes: number;
}): void {
  const principalOf = ({ req, url }: RouteContext): Principal => new Principal(d.tokens.verify(bearerToken(req, url)));
  /** A path id that is not a valid site or place id (`__proto__`, `constructor`, `A B`) is INVALID_PAYLOAD. */
  const idOf = (ctx: RouteContext, param: 'id' | 'placeId'): string => {
    const parsed = teleworkIdSchema.safeParse(ctx.params[param]);
    if (!parsed.success) throw new MoimError('INVALID_PAYLOAD', `${param}: lowercase letters, digits and -, 1–40`);
    return parsed.data;
  };

  d.router.add('GET', '/telework/sites', async (ctx) => {
    const body: SiteListResponse = { sites: await d.sites.list(principalOf(ctx)) };
    return { body };
  });

  d.router.add('GET', '/telework/sites/:id', async (ctx) => {
    const principal = principalOf(ctx);
    const body: SiteResponse = await d.sites.get(principal, idOf(ctx, 'id'));
    return { body };
  });

  d.router.add('PUT', '/telework/sites/:id', async (ctx) => {
    const principal = principalOf(ctx);
    const id = idOf(ctx, 'id');
    const input = await readJson(ctx.req, siteInputSchema, d.maxBodyBytes);
    const result = await d.sites.putSite(principal, id, input);
    return { status: result.created ? 201 : 200, body: result };
  });

  d.router.add('DELETE', '/telework/sites/:id', async (ctx) => {
    const principal = principalOf(ctx);
    await d.sites.deleteSite(principal, idOf(ctx, 'id'));
    return { body: { deleted: true } };
  });

  d.router.add('PUT', '/telework/sites/:id/places/:placeId', async (ctx) => {
    const principal = principalOf(ctx);
    const siteId = idOf(ctx, 'id');
    const placeId = idOf(ctx, 'placeId');
    const input = await readJson(ctx.req, placeInputSchema, d.maxBodyBytes);
    const result = await d.sites.putPlace(principal, siteId, placeId, input);
    return { status: result.created ? 201 : 200, body: result };
  });

  d.router.add('DELETE', '/telework/sites/:id/places/:placeId', async (ctx) => {
    const principal = principalOf(ctx);
    await d.sites.deletePlace(principal, idOf(ctx, 'id'), idOf(ctx, 'placeId'));
    return { body: { deleted: true } };
  });
}
