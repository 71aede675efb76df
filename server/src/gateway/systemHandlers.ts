import { MoimError } from '@moim/protocol';
import { Principal } from '../auth/Principal.ts';
import type { TokenService } from '../auth/TokenService.ts';
import type { Gateway, HandlerTable } from './Gateway.ts';

export function systemHandlers(deps: {
  tokens: TokenService;
  nodeId: string;
  /** Replaces a connection's principal and tells every service (`reauth`). */
  gateway: Pick<Gateway, 'reauthenticate'>;
}): HandlerTable {
  return {
    'system:ping': async ({ t }) => ({ t, serverTime: Date.now() }),
    'system:whoami': async (_data, conn) => {
      const t = conn.principal.token;
      return { sub: t.sub, name: t.name, org: t.org, site: t.site, role: t.role, teams: t.teams, node: deps.nodeId };
    },
    'system:auth': async ({ token }, conn) => {
      const verified = deps.tokens.verify(token);
      if (verified.sub !== conn.principal.sub)
        throw new MoimError('FORBIDDEN', 'a refreshed token must be for the same person');
      // every subscription the new token no longer allows is dropped before this answer
      deps.gateway.reauthenticate(conn, new Principal(verified));
      return { expiresAt: verified.exp };
    },
  };
}
