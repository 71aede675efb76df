/**
 * The HTTP routes of calls (Bearer token): `GET /calls/history?limit=` lists the caller's call
 * history, newest first, with the number of missed calls not yet seen; `POST /calls/history/read`
 * marks them seen. Answers: protocol/src/calls.ts.
 */
import { callHistoryQuerySchema, callHistoryReadSchema, MoimError } from '@moim/protocol';
import { Principal } from '../auth/Principal.ts';
import type { TokenService } from '../auth/TokenService.ts';
import { bearerToken, type HttpRouter, readJson } from '../http/HttpRouter.ts';
import type { CallHistory } from './CallHistory.ts';

export function addCallRoutes(d: {
  router: HttpRouter;
  history: CallHistory;
  tokens: TokenService;
  maxBodyBytes: number;
}): void {
  d.router.add('GET', '/calls/history', async ({ req, url }) => {
    const me = new Principal(d.tokens.verify(bearerToken(req, url)));
    const q = url.searchParams;
    const parsed = callHistoryQuerySchema.safeParse(q.has('limit') ? { limit: q.get('limit') } : {});
    if (!parsed.success) throw new MoimError('INVALID_PAYLOAD', 'limit: a whole number from 1 to 500');
    return { body: await d.history.list(me.token.org, me.sub, parsed.data.limit) };
  });
  d.router.add('POST', '/calls/history/read', async ({ req, url }) => {
    const me = new Principal(d.tokens.verify(bearerToken(req, url)));
    await readJson(req, callHistoryReadSchema, d.maxBodyBytes);
    return { body: { read: await d.history.markRead(me.token.org, me.sub) } };
  });
}
