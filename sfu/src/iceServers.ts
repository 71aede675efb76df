import { createHmac } from 'node:crypto';

export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

export interface TurnOptions {
  /** TURN/STUN URLs, e.g. `turns:turn.example.org:443?transport=tcp`. */
  urls: readonly string[];
  /** Shared secret of the TURN server (coturn `static-auth-secret`); unset: URLs only. */
  secret?: string | undefined;
  /** Credential lifetime in seconds. */
  ttlS: number;
}

/**
 * ICE servers for one person, with short-lived TURN credentials in the usual TURN REST scheme
 * (draft-uberti-behave-turn-rest): username `<expiry unix seconds>:<user>`, password
 * `base64(HMAC-SHA1(secret, username))`. coturn checks them with `use-auth-secret`.
 */
export function iceServersFor(user: string, turn: TurnOptions, now = Date.now()): IceServer[] {
  if (turn.urls.length === 0) return [];
  if (!turn.secret) return [{ urls: [...turn.urls] }];
  const username = `${Math.floor(now / 1000) + turn.ttlS}:${user}`;
  const credential = createHmac('sha1', turn.secret).update(username).digest('base64');
  return [{ urls: [...turn.urls], username, credential }];
}
