import { ensureWebBuilt } from '../../scripts/build-web.ts';

/** Browser tests run against the built web app as the server serves it: build it first when stale. */
export default function setup(): void {
  ensureWebBuilt();
}
