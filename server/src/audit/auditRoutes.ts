/**
 * The admin export of the audit log: `GET /admin/audit.csv?afterSeq=` (Bearer token, role admin),
 * the caller's organisation's rows in chain order as CSV, UTF-8 with BOM, formula cells escaped,
 * with each row's seq, hash and prev_hash so an export can be checked against the chain. Each
 * export is itself audited.
 */
import { MoimError } from '@moim/protocol';
import type { TokenService } from '../auth/TokenService.ts';
import type { HttpRouter } from '../http/HttpRouter.ts';
import type { AuditStore } from '../storage/AuditStore.ts';
import { CSV_CONTENT_TYPE, toCsv } from '../telework/csv.ts';
import { principalFrom } from '../telework/routeKit.ts';

export const AUDIT_CSV_HEADER = ['seq', 'id', 'at', 'time', 'actor', 'action', 'target', 'detail', 'prev_hash', 'hash'];

export function addAuditRoutes(d: {
  router: HttpRouter;
  tokens: TokenService;
  audit: AuditStore;
  maxRows: number;
}): void {
  const principalOf = principalFrom(d.tokens);
  d.router.add('GET', '/admin/audit.csv', async (ctx) => {
    const principal = principalOf(ctx);
    if (!principal.isAdmin) throw new MoimError('FORBIDDEN', 'only admins export the audit log');
    const raw = ctx.url.searchParams.get('afterSeq');
    const afterSeq = raw === null ? 0 : Number(raw);
    if (!Number.isSafeInteger(afterSeq) || afterSeq < 0)
      throw new MoimError('INVALID_PAYLOAD', 'afterSeq: a chain position');
    const org = principal.token.org;
    const rows: (string | number | null)[][] = [AUDIT_CSV_HEADER];
    let after = afterSeq;
    while (rows.length - 1 < d.maxRows) {
      const batch = await d.audit.chain({ afterSeq: after, org, limit: Math.min(1000, d.maxRows - (rows.length - 1)) });
      for (const r of batch)
        rows.push([
          r.seq,
          r.id,
          r.at,
          new Date(r.at).toISOString(),
          r.actor,
          r.action,
          r.target,
          r.detail,
          r.prevHash,
          r.hash,
        ]);
      if (batch.length === 0) break;
      after = batch[batch.length - 1]!.seq ?? after;
    }
    await d.audit.append({
      actor: principal.sub,
      action: 'audit.export',
      org,
      detail: { afterSeq, rows: rows.length - 1 },
    });
    const bytes = Buffer.from(toCsv(rows), 'utf8');
    ctx.res.writeHead(200, {
      'content-type': CSV_CONTENT_TYPE,
      'content-length': bytes.length,
      'content-disposition': `attachment; filename="moim-audit-${org}.csv"`,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    ctx.res.end(bytes);
    return undefined;
  });
}
