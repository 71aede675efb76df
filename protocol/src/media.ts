import type { z } from 'zod';

/** Client→server requests of this area: event name → zod schema of its payload. */
export const mediaRequests = {} as const satisfies Record<string, z.ZodType>;

/** Response data for each request above (the acknowledgement carries `{ data }`). */
// biome-ignore lint/complexity/noBannedTypes: filled by the media work
export type MediaResponses = {};

/** Server→client events of this area. */
// biome-ignore lint/complexity/noBannedTypes: filled by the media work
export type MediaServerEvents = {};
