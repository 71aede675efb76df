/**
 * The HTTP routes of telework under `/telework` (Bearer token): sites and places
 * (`/telework/sites`, the Sites service) and bookings (`/telework/bookings`, the Bookings
 * service; check-in, the CheckIn service). Each validates its path, query and body with the protocol's schemas and calls the
 * service, which decides who may do it. The routes and answers are documented in
 * protocol/src/telework.ts.
 */
import {
  type BookingListResponse,
  type BookingResponse,
  bookingDayQuerySchema,
  bookingIdSchema,
  bookingInputSchema,
  MoimError,
  placeInputSchema,
  type SiteListResponse,
  type SiteResponse,
  siteInputSchema,
  teleworkIdSchema,
} from '@moim/protocol';
import type { TokenService } from '../auth/TokenService.ts';
import { type HttpRouter, type RouteContext, readJson } from '../http/HttpRouter.ts';
import type { Bookings } from './Bookings.ts';
import type { CheckIn } from './CheckIn.ts';
import { principalFrom } from './routeKit.ts';
import type { Sites } from './Sites.ts';

export function addTeleworkRoutes(d: {
  router: HttpRouter;
  sites: Sites;
  tokens: TokenService;
  maxBodyBytes: number;
}): void {
  const principalOf = principalFrom(d.tokens);
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

export function addBookingRoutes(d: {
  router: HttpRouter;
  bookings: Bookings;
  checkIn: CheckIn;
  /** The request's client address, resolved through the trusted proxies (the edge's business). */
  clientAddressOf: (req: RouteContext['req']) => string;
  tokens: TokenService;
  maxBodyBytes: number;
}): void {
  const principalOf = principalFrom(d.tokens);

  d.router.add('POST', '/telework/bookings', async (ctx) => {
    const principal = principalOf(ctx);
    const input = await readJson(ctx.req, bookingInputSchema, d.maxBodyBytes);
    const body: BookingResponse = { booking: await d.bookings.create(principal, input) };
    return { status: 201, body };
  });

  d.router.add('GET', '/telework/bookings/mine', async (ctx) => {
    const body: BookingListResponse = { bookings: await d.bookings.mine(principalOf(ctx)) };
    return { body };
  });

  d.router.add('GET', '/telework/bookings', async (ctx) => {
    const principal = principalOf(ctx);
    const q = ctx.url.searchParams;
    const parsed = bookingDayQuerySchema.safeParse({ siteId: q.get('siteId') ?? '', day: q.get('day') ?? '' });
    if (!parsed.success) throw new MoimError('INVALID_PAYLOAD', 'siteId (a site id) and day (YYYY-MM-DD) are required');
    const body: BookingListResponse = { bookings: await d.bookings.day(principal, parsed.data) };
    return { body };
  });

  d.router.add('DELETE', '/telework/bookings/:id', async (ctx) => {
    const principal = principalOf(ctx);
    const id = bookingIdSchema.safeParse(ctx.params.id);
    if (!id.success) throw new MoimError('INVALID_PAYLOAD', 'id: a booking id (UUID)');
    const body: BookingResponse = { booking: await d.bookings.cancel(principal, id.data) };
    return { body };
  });

  d.router
    .add('POST', '/telework/bookings/:id/check-in', async (ctx) => {
      const principal = principalOf(ctx);
      const id = bookingIdSchema.safeParse(ctx.params.id);
      if (!id.success) throw new MoimError('INVALID_PAYLOAD', 'id: a booking id (UUID)');
      const body: BookingResponse = {
        booking: await d.checkIn.manual(principal, id.data, d.clientAddressOf(ctx.req)),
      };
      return { body };
    })
    .body('none');
}
