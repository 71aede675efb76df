import { connect, devToken, type MoimClient, type Role, randomId } from '@moim/client-sdk';
import { strictNetwork } from './network.ts';
import { passkeyStepUp, SessionToken } from './signInMethods.ts';

/**
 * Who signed in (dev sign-in). Kept for the tab (sessionStorage) and for the device
 * (localStorage): a new tab opens as the device's last person, and an open tab keeps its own.
 */
export interface Identity {
  name: string;
  site: string;
  role: Role;
  sub: string;
  /** moim's session token (passkey, SSO, certificate sign-in); absent: development sign-in. */
  token?: string;
}

const ID_KEY = 'moim.identity';
const DEVICE_KEY = 'moim.device';
/** The people who signed in on this device: name → sub, so the same name is the same person. */
const PEOPLE_KEY = 'moim.people';

export function loadIdentity(): Identity | undefined {
  return readIdentity(() => sessionStorage.getItem(ID_KEY)) ?? readIdentity(() => localStorage.getItem(ID_KEY));
}

function readIdentity(read: () => string | null): Identity | undefined {
  try {
    const raw = read();
    if (!raw) return undefined;
    const v = JSON.parse(raw) as Partial<Identity>;
    if (
      typeof v.name === 'string' &&
      typeof v.site === 'string' &&
      typeof v.role === 'string' &&
      typeof v.sub === 'string'
    )
      return v as Identity;
  } catch {
    // ignore a broken entry
  }
  return undefined;
}

export function saveIdentity(id: Identity | undefined): void {
  try {
    for (const store of [sessionStorage, localStorage]) {
      if (id) store.setItem(ID_KEY, JSON.stringify(id));
      else store.removeItem(ID_KEY);
    }
  } catch {
    // private mode: the session lasts until reload
  }
}

/** The people known on this device (a Map: names are typed by people and never index an object). */
function knownPeople(): Map<string, string> {
  try {
    const v = JSON.parse(localStorage.getItem(PEOPLE_KEY) ?? '[]') as unknown;
    if (!Array.isArray(v)) return new Map();
    return new Map(
      v.filter(
        (e): e is [string, string] =>
          Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && typeof e[1] === 'string',
      ),
    );
  } catch {
    return new Map();
  }
}

/** The key of a name: the same letters however they were typed (spacing, composed or not, case). */
function nameKey(name: string): string {
  return name.normalize('NFC').trim().replace(/\s+/g, ' ').toLowerCase();
}

/**
 * The person a name is on this device: the sub given the first time this name signed in here
 * (so signing in again keeps the person's channels and direct messages), or a new one.
 */
export function subFor(name: string): string {
  const people = knownPeople();
  const key = nameKey(name);
  const known = people.get(key);
  if (known) return known;
  const sub = newSub(name);
  people.set(key, sub);
  try {
    // the 200 most recent names are plenty for one device
    localStorage.setItem(PEOPLE_KEY, JSON.stringify([...people].slice(-200)));
  } catch {
    // private mode: the person is new at the next sign-in
  }
  return sub;
}

/** A stable id for this browser (presence counts devices). */
export function deviceId(): string {
  try {
    let id = localStorage.getItem(DEVICE_KEY);
    if (!id) {
      id = `web-${randomId(8)}`;
      localStorage.setItem(DEVICE_KEY, id);
    }
    return id;
  } catch {
    return `web-${randomId(8)}`;
  }
}

export function newSub(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 24);
  return `${slug || 'user'}-${randomId(3)}`;
}

let session: SessionToken | undefined;

/** The current token of this tab's session (for calls outside the SDK). */
export async function currentToken(identity: Identity): Promise<string> {
  return session ? session.fresh() : (await devToken(location.origin, identity)).token;
}

/**
 * Run a sensitive action; when the server asks for a fresh second factor (STEP_UP_REQUIRED), prove
 * the passkey, hand the stepped-up token to the client, and run it once more.
 */
export async function withStepUp<T>(client: MoimClient, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'STEP_UP_REQUIRED') throw err;
    session = new SessionToken(await passkeyStepUp(await client.currentToken()));
    await client.refreshToken();
    return action();
  }
}

/** Sign out: a moim session is ended on the server too. */
export async function endSession(): Promise<void> {
  const ending = session;
  session = undefined;
  await ending?.logout();
}

/** Connect the SDK with the identity's session token (refreshed) or a dev token (fetched again as it nears expiry). */
export async function startSession(identity: Identity): Promise<MoimClient> {
  const url = location.origin;
  session = identity.token ? new SessionToken(identity.token) : undefined;
  return connect({
    url,
    deviceId: deviceId(),
    getToken: () => currentToken(identity),
    rooms: { strictNetwork: strictNetwork() },
  });
}
