import { MoimError } from '@moim/protocol';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
  VerifiedAuthenticationResponse,
  VerifiedRegistrationResponse,
} from '@simplewebauthn/server';
import { z } from 'zod';
import type { Logger } from '../logger.ts';
import type { AccountProfile, AuthStore } from '../storage/index.ts';
import { personKey } from './Principal.ts';

export interface PasskeyOptions {
  rpId: string;
  rpName: string;
  /** Origins ceremonies may come from (read when needed: the bound port may be known late). */
  origins: () => string[];
  challengeTtlMs: number;
  /** Passkeys one person may register. @default 10 */
  maxPerPerson?: number;
  store: AuthStore;
  log: Logger;
}

const b64url = z
  .string()
  .max(16_384)
  .regex(/^[A-Za-z0-9_-]*$/, 'base64url');

/** The browser's answer (`@simplewebauthn/browser`), checked for shape before the library reads it. */
export const credentialResponseSchema = z
  .object({
    id: b64url.max(1024),
    rawId: b64url.max(1024),
    type: z.literal('public-key'),
    authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
    clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
    response: z
      .object({
        clientDataJSON: b64url,
        attestationObject: b64url.optional(),
        authenticatorData: b64url.optional(),
        signature: b64url.optional(),
        userHandle: b64url.optional(),
        transports: z.array(z.string().max(32)).max(8).optional(),
        publicKey: b64url.optional(),
        publicKeyAlgorithm: z.number().int().optional(),
      })
      .passthrough(),
  })
  .passthrough();
export type CredentialResponse = z.infer<typeof credentialResponseSchema>;

type Ceremony = 'passkey-register' | 'passkey-login' | 'passkey-step-up';

/**
 * Passkeys (WebAuthn, `@simplewebauthn/server`): registration by a signed-in person, sign-in
 * with a discoverable credential, and step-up. User verification is required in every ceremony.
 * Each challenge is stored (the AuthStore, shared by a cluster's nodes), bound to its ceremony
 * and person, expires, and is taken by the first answer that names it: a replay finds nothing.
 * The relying-party id and origins come from the configuration.
 */
/**
 * The WebAuthn library, loaded at the first ceremony: with its certificate and ASN.1 parsers it is
 * one of the heaviest modules of the server, and most processes never see a passkey (loading it
 * at start-up was a fifth of the time to ready).
 */
let library: Promise<typeof import('@simplewebauthn/server')> | undefined;
const webauthn = () => {
  // a failed load is not kept: the next ceremony tries again
  library ??= import('@simplewebauthn/server').catch((err: unknown) => {
    library = undefined;
    throw err;
  });
  return library;
};

export class Passkeys {
  readonly #o: PasskeyOptions;
  constructor(opts: PasskeyOptions) {
    this.#o = opts;
  }

  async registrationOptions(org: string, sub: string, name: string): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const existing = await this.#o.store.passkeysOf(org, sub);
    if (existing.length >= (this.#o.maxPerPerson ?? 10))
      throw new MoimError('QUOTA_EXCEEDED', `at most ${this.#o.maxPerPerson ?? 10} passkeys per person`);
    const { generateRegistrationOptions } = await webauthn();
    const options = await generateRegistrationOptions({
      rpName: this.#o.rpName,
      rpID: this.#o.rpId,
      userName: name,
      userDisplayName: name,
      userID: new TextEncoder().encode(personKey(org, sub)),
      attestationType: 'none',
      excludeCredentials: existing.map((p) => ({ id: p.id, transports: p.transports })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      timeout: this.#o.challengeTtlMs,
    });
    await this.#remember(options.challenge, 'passkey-register', personKey(org, sub));
    return options;
  }

  async register(org: string, sub: string, response: CredentialResponse): Promise<{ id: string }> {
    const challenge = await this.#take(response, 'passkey-register', personKey(org, sub));
    const { verifyRegistrationResponse } = await webauthn();
    let info: VerifiedRegistrationResponse;
    try {
      info = await verifyRegistrationResponse({
        response: response as unknown as RegistrationResponseJSON,
        expectedChallenge: challenge,
        expectedOrigin: this.#o.origins(),
        expectedRPID: this.#o.rpId,
        requireUserVerification: true,
      });
    } catch (err) {
      throw refused(err);
    }
    if (!info.verified || !info.registrationInfo) throw new MoimError('SIGN_IN_FAILED', 'the passkey was not verified');
    const c = info.registrationInfo.credential;
    if (await this.#o.store.passkey(c.id)) throw new MoimError('CONFLICT', 'this passkey is registered already');
    await this.#o.store.addPasskey({
      id: c.id,
      org,
      sub,
      publicKey: Buffer.from(c.publicKey).toString('base64url'),
      counter: c.counter,
      transports: (c.transports ?? []).slice(0, 8),
      createdAt: Date.now(),
    });
    return { id: c.id };
  }

  /** Options of a sign-in (any discoverable passkey) or of a step-up (the person's own passkeys). */
  async authenticationOptions(person?: { org: string; sub: string }): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const own = person ? await this.#o.store.passkeysOf(person.org, person.sub) : [];
    if (person && own.length === 0) throw new MoimError('NOT_FOUND', 'no passkey is registered for this person');
    const { generateAuthenticationOptions } = await webauthn();
    const options = await generateAuthenticationOptions({
      rpID: this.#o.rpId,
      userVerification: 'required',
      allowCredentials: own.map((p) => ({ id: p.id, transports: p.transports as never })),
      timeout: this.#o.challengeTtlMs,
    });
    await this.#remember(
      options.challenge,
      person ? 'passkey-step-up' : 'passkey-login',
      person ? personKey(person.org, person.sub) : '',
    );
    return options;
  }

  /** Verify a sign-in (or, with `person`, a step-up) assertion → the passkey's person. */
  async authenticate(
    response: CredentialResponse,
    person?: { org: string; sub: string },
  ): Promise<{ org: string; sub: string; credentialId: string }> {
    const challenge = await this.#take(
      response,
      person ? 'passkey-step-up' : 'passkey-login',
      person ? personKey(person.org, person.sub) : '',
    );
    const stored = await this.#o.store.passkey(response.id);
    if (!stored) throw new MoimError('SIGN_IN_FAILED', 'unknown passkey');
    if (person && (stored.org !== person.org || stored.sub !== person.sub))
      throw new MoimError('SIGN_IN_FAILED', 'this passkey belongs to someone else');
    const { verifyAuthenticationResponse } = await webauthn();
    let info: VerifiedAuthenticationResponse;
    try {
      info = await verifyAuthenticationResponse({
        response: response as unknown as AuthenticationResponseJSON,
        expectedChallenge: challenge,
        expectedOrigin: this.#o.origins(),
        expectedRPID: this.#o.rpId,
        credential: {
          id: stored.id,
          publicKey: new Uint8Array(Buffer.from(stored.publicKey, 'base64url')),
          counter: stored.counter,
          transports: stored.transports as never,
        },
        requireUserVerification: true,
      });
    } catch (err) {
      throw refused(err);
    }
    if (!info.verified) throw new MoimError('SIGN_IN_FAILED', 'the passkey assertion was not verified');
    // the library refuses a counter that did not grow (a cloned authenticator); 0 stays 0 for passkeys that keep none
    await this.#o.store.setPasskeyCounter(stored.id, info.authenticationInfo.newCounter);
    return { org: stored.org, sub: stored.sub, credentialId: stored.id };
  }

  async #remember(challenge: string, kind: Ceremony, binding: string): Promise<void> {
    await this.#o.store.putChallenge({
      id: challenge,
      kind,
      binding,
      data: '',
      expiresAt: Date.now() + this.#o.challengeTtlMs,
    });
  }

  /** The challenge the answer signed, taken from the store (single use) and checked against the ceremony. */
  async #take(response: CredentialResponse, kind: Ceremony, binding: string): Promise<string> {
    let challenge: unknown;
    try {
      challenge = (
        JSON.parse(Buffer.from(response.response.clientDataJSON, 'base64url').toString('utf8')) as {
          challenge?: unknown;
        }
      ).challenge;
    } catch (err) {
      throw new MoimError('INVALID_PAYLOAD', 'clientDataJSON is not JSON', { cause: err });
    }
    if (typeof challenge !== 'string' || challenge.length > 512)
      throw new MoimError('INVALID_PAYLOAD', 'clientDataJSON has no challenge');
    const taken = await this.#o.store.takeChallenge(challenge, kind, Date.now());
    if (!taken) throw new MoimError('SIGN_IN_FAILED', 'unknown, used or expired challenge');
    if (taken.binding !== binding) throw new MoimError('SIGN_IN_FAILED', 'the challenge was issued to someone else');
    return challenge;
  }
}

export type { AccountProfile };

function refused(err: unknown): MoimError {
  return new MoimError('SIGN_IN_FAILED', `passkey refused: ${String((err as Error).message ?? err).slice(0, 200)}`, {
    cause: err,
  });
}
