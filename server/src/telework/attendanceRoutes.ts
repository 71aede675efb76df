/**
 * The HTTP routes of telework attendance (Bearer token): `GET /telework/attendance?from=&to=&sub=`
 * (the Attendance service decides whose days the caller may see) and `POST
 * /telework/attendance/corrections` (a correction to approve). Queries and bodies go through the
 * protocol's schemas; answers are documented in protocol/src/attendance.ts.
 */
import {
  type ApprovalResponse,
  type AttendanceResponse,
  attendanceCorrectionInputSchema,
  attendanceQuerySchema,
  MoimError,
} from '@moim/protocol';
import { Principal } from '../auth/Principal.ts';
import type { TokenService } from '../auth/TokenService.ts';
import { bearerToken, type HttpRouter, readJson } from '../http/HttpRouter.ts';
import { describeZodError } from '../lib/zodError.ts';
import type { Attendance } from './Attendance.ts';
import type { Corrections } from './Corrections.ts';

export function addAttendanceRoutes(d: {
  router: HttpRouter;
  attendance: Attendance;
  corrections: Corrections;
  tokens: TokenService;
  maxBodyBytes: number;
}): void {
  d.router.add('POST', '/telework/attendance/corrections', async (ctx) => {
    const principal = new Principal(d.tokens.verify(bearerToken(ctx.req, ctx.url)));
    const input = await readJson(ctx.req, attendanceCorrectionInputSchema, d.maxBodyBytes);
    const body: ApprovalResponse = { approval: await d.corrections.request(principal, input) };
    return { status: 201, body };
  });

  d.router.add('GET', '/telework/attendance', async ({ req, url }) => {
    const principal = new Principal(d.tokens.verify(bearerToken(req, url)));
    const q = url.searchParams;
    const raw: Record<string, string> = { from: q.get('from') ?? '', to: q.get('to') ?? '' };
    const sub = q.get('sub');
    if (sub !== null) raw.sub = sub;
    const parsed = attendanceQuerySchema.safeParse(raw);
    if (!parsed.success) throw new MoimError('INVALID_PAYLOAD', describeZodError(parsed.error));
    const body: AttendanceResponse = { days: await d.attendance.query(principal, parsed.data) };
    return { body };
  });
}
