import type { z } from 'zod';

/** Longest description: an issue naming every unknown key of a large payload is cut. */
const MAX_CHARS = 300;

/** A one-line description of the first issue of a failed schema parse, for error replies (at most 300 characters). */
export function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid payload';
  const where = issue.path.length ? issue.path.join('.') : 'payload';
  const text = `${where}: ${issue.message}`;
  return text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS - 1)}…` : text;
}
