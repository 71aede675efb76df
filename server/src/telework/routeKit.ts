/**
 * What every telework route file needs: the caller from the request's Bearer token, and a path
 * parameter through its schema (an id that is not one — `__proto__`, `a b` — is INVALID_PAYLOAD,
 * never a lookup).
 */
import { MoimError } from '@moim/protocol';
import type { z } from 'zod';
import { Principal } from '../auth/Principal.ts';
import type { TokenService } from '../auth/TokenService.ts';
import { bearerToken, type RouteContext } from '../http/HttpRouter.ts';

/** The caller of a request, from its verified Bearer token. */
export function principalFrom(tokens: TokenService): (ctx: RouteContext) => Principal {
  return ({ req, url }) => new Principal(tokens.verify(bearerToken(req, url)));
}

/** The path parameter `name` as `schema` reads it; INVALID_PAYLOAD naming it and `what` it must be otherwise. */
export function pathParam<T>(ctx: RouteContext, name: string, schema: z.ZodType<T>, what: string): T {
  const parsed = schema.safeParse(ctx.params[name]);
  if (!parsed.success) throw new MoimError('INVALID_PAYLOAD', `${name}: ${what}`);
  return parsed.data;
}
