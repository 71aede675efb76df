/**
 * The HTTP route of telework attendance, `GET /telework/attendance?from=&to=&sub=` (Bearer token):
 * validates the query with the protocol's schema and calls the Attendance service, which decides
 * whose days the caller may see. The answer is documented in protocol/src/attendance.ts.
 */
import { type AttendanceResponse, attendanceQuerySchema, MoimError } from '@moim/protocol';
import { Principal } from '../auth/Principal.ts';
import type { TokenService } from '../auth/TokenService.ts';
import { bearerToken, type HttpRouter } from '../http/HttpRouter.ts';
import { describeZodError } from '../lib/zodError.ts';
import type { Attendance } from './Attendance.ts';

export function addAttendanceRoutes(d: { router: HttpRouter; attendance: Attendance; tokens: TokenService }): void {
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
