import { z } from 'zod';
import type { ErrorBody } from './errors.ts';

/** Requests every connection may send, whatever the product area. */
export const systemRequests = {
  /** Round-trip probe; also counts as activity for presence. */
  'system:ping': z.object({ t: z.number().finite() }).strict(),
  /** Who the server thinks I am (from the token). */
  'system:whoami': z.object({}).strict(),
  /** Replace this connection's token (same person) before it expires. */
  'system:auth': z.object({ token: z.string().min(1).max(16384) }).strict(),
} as const;

export interface SystemResponses {
  'system:ping': { t: number; serverTime: number };
  'system:auth': { expiresAt: number };
  'system:whoami': {
    sub: string;
    name: string;
    org: string;
    site: string;
    role: string;
    teams: string[];
    node: string;
  };
}

export interface SystemServerEvents {
  /** A server-side notice that is not tied to one request (e.g. the token is about to expire). */
  'system:notice': (notice: ErrorBody & { at: number }) => void;
}
