import { z } from 'zod';

/**
 * How claims of an identity provider (OIDC ID token / userinfo) or attributes of a certificate's
 * subject become moim's org, teams, site, role and name. Each field names the claim (attribute)
 * to read; the `*Default` used when it is absent. `roles` lists the claim values that make an
 * admin or a manager (anyone else is a member).
 */
export const claimsMapSchema = z
  .object({
    name: z.string().min(1).max(64).default('name'),
    org: z.string().min(1).max(64).optional(),
    orgDefault: z.string().min(1).max(64).default('default'),
    site: z.string().min(1).max(64).optional(),
    siteDefault: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/)
      .default('hq'),
    teams: z.string().min(1).max(64).optional(),
    role: z.string().min(1).max(64).optional(),
    roles: z
      .object({
        admin: z.array(z.string().min(1).max(128)).max(50).default([]),
        manager: z.array(z.string().min(1).max(128)).max(50).default([]),
      })
      .strict()
      .default({ admin: [], manager: [] }),
  })
  .strict();
export type ClaimsMap = z.infer<typeof claimsMapSchema>;

/** The JSON config check of a claims map (ConfigError names the variable). */
export function claimsMap(value: unknown): ClaimsMap {
  const r = claimsMapSchema.safeParse(value);
  if (!r.success)
    throw new Error(`invalid claims map: ${r.error.issues[0]?.path.join('.')} ${r.error.issues[0]?.message}`);
  return r.data;
}

export const DEFAULT_CLAIMS_MAP: ClaimsMap = claimsMapSchema.parse({});
export const DEFAULT_CERT_CLAIMS_MAP: ClaimsMap = claimsMapSchema.parse({ name: 'CN', org: 'O' });
