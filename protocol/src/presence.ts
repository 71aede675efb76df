import type { z } from 'zod';

/** Client→server requests of this area: event name → zod schema of its payload. */
export const presenceRequests = {} as const satisfies Record<string, z.ZodType>;

/** Response data for each request above (the acknowledgement carries `{ data }`). */
// biome-ignore lint/complexity/noBannedTypes: filled by the presence work
export type PresenceResponses = {};

/** Server→client events of this area. */
// biome-ignore lint/complexity/noBannedTypes: filled by the presence work
export type PresenceServerEvents = {};
