/**
 * The "strict network" setting of this browser (closed networks): media only through the TURN
 * relay the server hands out, never a direct path. Remembered in localStorage; changing it applies
 * to the next meeting joined (the SDK's `rooms.setNetwork`).
 */
import type { MoimClient } from '@moim/client-sdk';

const STRICT_KEY = 'moim.strictNetwork';

export function strictNetwork(): boolean {
  try {
    return localStorage.getItem(STRICT_KEY) === '1';
  } catch {
    // storage unavailable (private mode): the default, direct paths allowed
    return false;
  }
}

export function setStrictNetwork(client: MoimClient, on: boolean): void {
  client.rooms.setNetwork({ strictNetwork: on });
  try {
    if (on) localStorage.setItem(STRICT_KEY, '1');
    else localStorage.removeItem(STRICT_KEY);
  } catch {
    // storage unavailable: the setting holds for this page only
  }
}
