/**
 * Keeps the socket.io heartbeats of many connections spread out in time.
 *
 * engine.io schedules each connection's next ping `pingInterval` after its last pong, with
 * `Timeout.refresh()` — which starts from the event loop's cached time. Every pong handled in one
 * loop turn therefore gets the same next-ping time, so after any stall (or a reconnect wave) the
 * pings of all the connections whose pongs waited in it fire in one timer run, and their pongs
 * come back together: the clump never disperses and each stall merges more heartbeats into it.
 * With 2,000 connections that is 2,000 ping frames written back to back every interval — a
 * periodic stall of tens of ms for every message waiting behind it.
 *
 * After each pong this pushes the connection's next ping back by a random 0…`maxJitterMs`, so
 * heartbeats that were processed together go out apart. The delay is bounded well inside the
 * client's allowance (it expects a ping within pingInterval + pingTimeout). Uses engine.io's
 * `pingIntervalTimer` field; if a future engine.io lacks it, heartbeats work as before, unspread.
 */
import type { Server } from 'socket.io';

interface EngineConn {
  on(event: 'heartbeat', fn: () => void): void;
  once(event: 'close', fn: () => void): void;
  pingIntervalTimer?: { refresh?: () => unknown } | null;
}

/** The jitter for a ping interval and timeout: 10 % of the interval, at most a quarter of the timeout. */
export function heartbeatJitterMs(pingIntervalMs: number, pingTimeoutMs: number): number {
  return Math.max(0, Math.floor(Math.min(pingIntervalMs * 0.1, pingTimeoutMs / 4)));
}

export function spreadHeartbeats(io: Server, maxJitterMs: number, random: () => number = Math.random): void {
  if (maxJitterMs <= 0) return;
  io.engine.on('connection', (conn: EngineConn) => {
    let timer: NodeJS.Timeout | undefined;
    conn.on('heartbeat', () => {
      const ping = conn.pingIntervalTimer;
      // a pong (protocol 4; protocol 3 clients ping themselves and have no ping timer here)
      if (!ping || typeof ping.refresh !== 'function' || timer !== undefined) return;
      timer = setTimeout(() => {
        timer = undefined;
        // the refresh restarts the full interval from now: the ping goes out `delay` later
        if (conn.pingIntervalTimer === ping) ping.refresh?.();
      }, random() * maxJitterMs);
      timer.unref();
    });
    conn.once('close', () => clearTimeout(timer));
  });
}
