/**
 * The HTTP routes of approvals under `/approvals` (Bearer token): documents, decisions, comments,
 * lists and delegations. Each validates its path, query and body with the protocol's schemas and
 * calls the Approvals service, which decides who may do it. The routes and answers are documented
 * in protocol/src/approvals.ts.
 */
import {
  type ApprovalListResponse,
  type ApprovalResponse,
  approvalCommentInputSchema,
  approvalDecisionInputSchema,
  approvalDraftInputSchema,
  approvalIdSchema,
  approvalListQuerySchema,
  approvalPatchInputSchema,
  type DelegationListResponse,
  type DelegationResponse,
  delegationInputSchema,
  MoimError,
  personSubSchema,
} from '@moim/protocol';
import type { StepUp } from '../auth/StepUp.ts';
import type { TokenService } from '../auth/TokenService.ts';
import { describeZodError, type HttpRouter, type RouteContext, readJson } from '../http/HttpRouter.ts';
import type { Approvals } from './Approvals.ts';
import { pathParam, principalFrom } from './routeKit.ts';

export function addApprovalRoutes(d: {
  router: HttpRouter;
  approvals: Approvals;
  tokens: TokenService;
  maxBodyBytes: number;
  /** Decisions need a fresh second factor (passkey or certificate) when step-up is on. */
  stepUp?: StepUp | undefined;
}): void {
  const principalOf = principalFrom(d.tokens);
  const idOf = (ctx: RouteContext): string => pathParam(ctx, 'id', approvalIdSchema, 'an approval id (UUID)');

  // delegations first: `/approvals/delegations` is not an approval id
  d.router.add('PUT', '/approvals/delegations', async (ctx) => {
    const principal = principalOf(ctx);
    const input = await readJson(ctx.req, delegationInputSchema, d.maxBodyBytes);
    const body: DelegationResponse = { delegation: await d.approvals.putDelegation(principal, input) };
    return { body };
  });

  d.router.add('GET', '/approvals/delegations', async (ctx) => {
    const body: DelegationListResponse = await d.approvals.listDelegations(principalOf(ctx));
    return { body };
  });

  d.router.add('DELETE', '/approvals/delegations/:to', async (ctx) => {
    const principal = principalOf(ctx);
    const to = personSubSchema.safeParse(ctx.params.to);
    if (!to.success) throw new MoimError('INVALID_PAYLOAD', `to: ${describeZodError(to.error)}`);
    await d.approvals.deleteDelegation(principal, to.data);
    return { body: { deleted: true } };
  });

  d.router.add('POST', '/approvals', async (ctx) => {
    const principal = principalOf(ctx);
    const input = await readJson(ctx.req, approvalDraftInputSchema, d.maxBodyBytes);
    const body: ApprovalResponse = { approval: await d.approvals.createDraft(principal, input) };
    return { status: 201, body };
  });

  d.router.add('GET', '/approvals', async (ctx) => {
    const principal = principalOf(ctx);
    const query = approvalListQuerySchema.safeParse(
      Object.fromEntries([...ctx.url.searchParams].filter(([k]) => k !== 'token')),
    );
    if (!query.success) throw new MoimError('INVALID_PAYLOAD', describeZodError(query.error));
    const body: ApprovalListResponse = await d.approvals.list(principal, query.data);
    return { body };
  });

  d.router.add('GET', '/approvals/:id', async (ctx) => {
    const principal = principalOf(ctx);
    const body: ApprovalResponse = { approval: await d.approvals.get(principal, idOf(ctx)) };
    return { body };
  });

  d.router.add('PATCH', '/approvals/:id', async (ctx) => {
    const principal = principalOf(ctx);
    const id = idOf(ctx);
    const input = await readJson(ctx.req, approvalPatchInputSchema, d.maxBodyBytes);
    const body: ApprovalResponse = { approval: await d.approvals.patch(principal, id, input) };
    return { body };
  });

  d.router
    .add('POST', '/approvals/:id/submit', async (ctx) => {
      const principal = principalOf(ctx);
      const body: ApprovalResponse = { approval: await d.approvals.submit(principal, idOf(ctx)) };
      return { body };
    })
    .body('none');

  for (const [action, decision] of [
    ['approve', 'approved'],
    ['reject', 'rejected'],
  ] as const)
    d.router.add('POST', `/approvals/:id/${action}`, async (ctx) => {
      const principal = principalOf(ctx);
      d.stepUp?.require(principal, `${action} an approval`);
      const id = idOf(ctx);
      const input = await readJson(ctx.req, approvalDecisionInputSchema, d.maxBodyBytes);
      const body: ApprovalResponse = { approval: await d.approvals.decide(principal, id, decision, input) };
      return { body };
    });

  d.router
    .add('POST', '/approvals/:id/cancel', async (ctx) => {
      const principal = principalOf(ctx);
      const body: ApprovalResponse = { approval: await d.approvals.cancel(principal, idOf(ctx)) };
      return { body };
    })
    .body('none');

  d.router.add('POST', '/approvals/:id/comments', async (ctx) => {
    const principal = principalOf(ctx);
    const id = idOf(ctx);
    const input = await readJson(ctx.req, approvalCommentInputSchema, d.maxBodyBytes);
    const body: ApprovalResponse = { approval: await d.approvals.comment(principal, id, input.text) };
    return { status: 201, body };
  });
}
