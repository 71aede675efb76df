/**
 * A second moim on the same machine (issue 15): when the WebRTC port is taken, start-up stops
 * with one line that names the port and MOIM_RTC_PORT, exit code 2, and no stack trace — unless
 * the port may fall back (development with MOIM_RTC_PORT unset, or MOIM_RTC_PORT_FALLBACK=on):
 * then the second moim listens on free ports, says which, and serves media on them.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer } from 'node:net';
import { PROTOCOL_VERSION, type TransportInfo } from '@moim/protocol';
import { waitFor } from '@moim/sfu/testing';
import { io } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { iceCheck } from './support/iceCheck.ts';
import { type ServerProcess, startServerProcess } from './support/serverProcess.ts';

const held: Socket[] = [];
const servers: ServerProcess[] = [];
afterEach(async () => {
  for (const s of held.splice(0)) s.close();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

/** A port free for both UDP and TCP on 127.0.0.1 right now (the OS's pick, released again). */
async function freePort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const tcp = createServer();
    const port = await new Promise<number>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(0, '127.0.0.1', () => resolve((tcp.address() as { port: number }).port));
    });
    const udp = createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    udp.close();
    await new Promise((r) => tcp.close(r));
    if (ok) return port;
  }
  throw new Error('no port free for both UDP and TCP');
}

/** Join a new room on `url` and open a WebRTC transport: its ICE parameters and candidates. */
async function webRtcTransport(url: string): Promise<TransportInfo> {
  const dev = async (name: string) => {
    const res = await fetch(`${url}/auth/dev-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, site: 'hq', role: 'member' }),
    });
    return ((await res.json()) as { token: string }).token;
  };
  const socket = io(url, {
    transports: ['websocket'],
    auth: { token: await dev('Ana'), protocol: PROTOCOL_VERSION },
    reconnection: false,
    forceNew: true,
  });
  try {
    await new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(undefined));
      socket.once('connect_error', reject);
    });
    const call = async <T>(event: string, payload: unknown): Promise<T> => {
      const ack = (await socket.timeout(10_000).emitWithAck(event, payload)) as { data?: T; error?: unknown };
      if (ack.error !== undefined) throw new Error(`${event}: ${JSON.stringify(ack.error)}`);
      return ack.data as T;
    };
    const { roomId } = await call<{ roomId: string }>('room:create', { tier: 'personal' });
    await call('room:join', { roomId });
    return await call<TransportInfo>('media:createTransport', { roomId, direction: 'recv', kind: 'webrtc' });
  } finally {
    socket.disconnect();
  }
}

type Candidate = { ip?: string; address?: string; port: number; protocol: 'udp' | 'tcp' };

/** Hold a UDP port on 127.0.0.1 as another program would. */
function holdUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  held.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve(socket.address().port));
  });
}

describe('start-up with a taken WebRTC port', () => {
  it('says which port is taken and names MOIM_RTC_PORT, in one line', async () => {
    const port = await holdUdpPort();
    const failure = await startServerProcess({
      MOIM_RTC_PORT: String(port),
      MOIM_RTC_LISTEN: '[{"ip":"127.0.0.1"}]',
    }).then(
      () => undefined,
      (err: Error) => err.message,
    );
    expect(failure).toBeDefined();
    expect(failure).toMatch(/^server exited with 2: /);
    const lines = failure!
      .replace(/^server exited with 2: /, '')
      .trim()
      .split('\n');
    const ours = lines.filter((l) => l.startsWith('moim: '));
    expect(ours).toEqual([
      `moim: cannot start: the WebRTC port ${port} (UDP and TCP on 127.0.0.1) is taken, by another moim or another program: set MOIM_RTC_PORT to a free port (worker i uses MOIM_RTC_PORT + i), or to 0 for any free ports`,
    ]);
    // no stack trace
    expect(lines.filter((l) => /^\s+at /.test(l))).toEqual([]);
  }, 60_000);
});

describe('a second moim when the WebRTC port may fall back', () => {
  it('listens on free ports, says which, and both moims serve WebRTC', async () => {
    const port = await freePort();
    // MOIM_RTC_PORT is set here (a random port, not the fixed default 40000 other programs use),
    // so the fallback is switched on as development does when MOIM_RTC_PORT is unset
    const env = {
      MOIM_ENV: 'development',
      MOIM_RTC_PORT: String(port),
      MOIM_RTC_PORT_FALLBACK: 'on',
      MOIM_RTC_LISTEN: '[{"ip":"127.0.0.1"}]',
      MOIM_LOG_LEVEL: 'info',
    };
    // both at once (a start takes long on a busy machine): whichever binds the port first keeps it
    const both = await Promise.allSettled([startServerProcess(env), startServerProcess(env)]);
    for (const r of both) if (r.status === 'fulfilled') servers.push(r.value);
    for (const r of both) if (r.status === 'rejected') throw r.reason;

    // each says on its ready line where WebRTC listens: one on the port asked for, the other elsewhere
    const ready = (s: ServerProcess) => {
      const m = /moim ready at \S+ \(WebRTC UDP (\d+), TCP (\d+)\)/.exec(s.output());
      expect(m, s.output()).not.toBeNull();
      return { udp: Number(m![1]), tcp: Number(m![2]) };
    };
    const [first, second] = ready(servers[0]!).udp === port ? [servers[0]!, servers[1]!] : [servers[1]!, servers[0]!];
    expect(ready(first)).toEqual({ udp: port, tcp: port });
    const fallback = ready(second);
    expect(fallback.udp).not.toBe(port);
    expect(fallback.tcp).not.toBe(port);
    // and the second one's log says why (one info line per worker; the logger may flush it after the ready line)
    await waitFor(() => second.output().includes(`WebRTC port ${port} is taken`), {
      timeoutMs: 10_000,
      what: 'the fallback log line',
    });

    // every ICE candidate announces the port really listened on, and an ICE check there connects
    for (const [server, ports] of [
      [first, { udp: port, tcp: port }],
      [second, fallback],
    ] as const) {
      const t = await webRtcTransport(server.url);
      const candidates = t.iceCandidates as Candidate[];
      const udp = candidates.filter((c) => c.protocol === 'udp');
      expect(udp.map((c) => c.port)).toEqual([ports.udp]);
      expect(candidates.filter((c) => c.protocol === 'tcp').map((c) => c.port)).toEqual([ports.tcp]);
      const ice = t.iceParameters as { usernameFragment: string; password: string };
      const answer = await iceCheck({ ip: udp[0]!.address ?? udp[0]!.ip!, port: ports.udp }, ice);
      expect(answer).toEqual({ type: 0x0101, success: true });
    }
  }, 60_000);

  it('keeps the port fixed when MOIM_RTC_PORT_FALLBACK is off (as in production)', async () => {
    const port = await holdUdpPort();
    const failure = await startServerProcess({
      MOIM_RTC_PORT: String(port),
      MOIM_RTC_PORT_FALLBACK: 'off',
      MOIM_RTC_LISTEN: '[{"ip":"127.0.0.1"}]',
    }).then(
      () => undefined,
      (err: Error) => err.message,
    );
    expect(failure).toMatch(/^server exited with 2: /);
    expect(failure).toContain(`the WebRTC port ${port} (UDP and TCP on 127.0.0.1) is taken`);
  }, 60_000);
});
