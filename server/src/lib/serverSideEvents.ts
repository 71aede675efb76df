/**
 * A message between the nodes of a cluster on the socket.io adapter's server-side events: what one
 * node sends, every other node receives (never the sender), in order with the adapter's other
 * traffic. Each arriving message is checked against its schema first; a malformed one is logged
 * and dropped. Used for changes that must reach the other nodes' live connections at once (a
 * data-leak policy change, a document's new title).
 */
import type { z } from 'zod';
import type { Logger } from '../logger.ts';
import type { MoimServer } from './rooms.ts';

/** The adapter's server-side API, which the typed `MoimServer` does not declare for free-form events. */
interface ServerSideIo {
  serverSideEmit(event: string, ...args: unknown[]): boolean;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}

/**
 * Listen for `event` from the other nodes (`receive` gets each message that passes `schema`) and
 * return the function that sends one to them. `what` names the message in the log.
 */
export function serverSideChannel<S extends z.ZodType>(
  io: MoimServer,
  event: string,
  schema: S,
  opts: { log: Logger; what: string; receive: (msg: z.output<S>) => void },
): (msg: z.input<S>) => void {
  const adapterIo = io as unknown as ServerSideIo;
  adapterIo.on(event, (msg: unknown) => {
    const parsed = schema.safeParse(msg);
    if (!parsed.success) {
      opts.log.warn(
        { issues: parsed.error.issues.slice(0, 3) },
        `${opts.what}: a relayed message was malformed; ignored`,
      );
      return;
    }
    opts.receive(parsed.data);
  });
  return (msg) => {
    adapterIo.serverSideEmit(event, msg);
  };
}
