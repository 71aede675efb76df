/**
 * bench:sfu signalling clients for moim (a generator process): real socket.io clients that
 * create rooms, join them, publish over plain-RTP send transports and subscribe with plain recv
 * transports pointed at the light receivers — moim's signalling creates every consumer (paused,
 * resumed once the client acknowledges `media:newConsumer`, as with mediasoup-client).
 */
import { type Ack, type JoinResponse, PROTOCOL_VERSION, type TransportInfo } from '@moim/protocol';
import { vp8RtpParameters } from '@moim/sfu/testing';
import { io, type Socket } from 'socket.io-client';
import { mapLimit, waitUntil } from '../lib/bounded.ts';
import { serve } from '../lib/generators.ts';
import { srtpKeyBase64, withoutTransportCc } from '../lib/rtp.ts';

interface PeerConn {
  socket: Socket;
  consumers: number;
}
const peers: PeerConn[] = [];
let url = '';

function connect(token: string): Promise<PeerConn> {
  return new Promise((resolve, reject) => {
    const socket = io(url, {
      transports: ['websocket'],
      auth: { token, protocol: PROTOCOL_VERSION },
      reconnection: false,
      forceNew: true,
    });
    const peer: PeerConn = { socket, consumers: 0 };
    socket.on('media:newConsumer', (_e: unknown, ack?: (r: unknown) => void) => {
      peer.consumers++;
      ack?.({});
    });
    socket.once('connect', () => {
      peers.push(peer);
      resolve(peer);
    });
    socket.once('connect_error', (err) => reject(err));
  });
}

async function call<T>(p: PeerConn, event: string, payload: unknown): Promise<T> {
  const ack = (await p.socket.timeout(60_000).emitWithAck(event, payload)) as Ack<T>;
  if ('error' in ack)
    throw Object.assign(new Error(`${event}: ${ack.error.code} ${ack.error.message}`), { code: ack.error.code });
  return ack.data;
}

serve({
  init(args: { url: string }) {
    url = args.url;
    return {};
  },
  async createRoom(args: { token: string }) {
    const p = await connect(args.token);
    const room = await call<{ roomId: string }>(p, 'room:create', { tier: 'standard', name: 'bench' });
    return { roomId: room.roomId };
  },
  /** Record the room (`--set record=1`): a manager's token, granted `record`. */
  async startRecording(args: { token: string; roomId: string }) {
    const p = await connect(args.token);
    await call(p, 'room:startRecording', { roomId: args.roomId });
    return {};
  },
  async addPublishers(args: { roomId: string; pubs: { token: string; ssrc: number }[] }) {
    const targets = await mapLimit(args.pubs, 4, async (x) => {
      const p = await connect(x.token);
      await call<JoinResponse>(p, 'room:join', { roomId: args.roomId });
      const t = await call<TransportInfo>(p, 'media:createTransport', {
        roomId: args.roomId,
        direction: 'send',
        kind: 'plain',
      });
      await call(p, 'media:produce', {
        roomId: args.roomId,
        transportId: t.transportId,
        kind: 'video',
        source: 'camera',
        rtpParameters: vp8RtpParameters([x.ssrc]),
      });
      return { ssrc: x.ssrc, ip: t.ip!, port: t.port! };
    });
    return { targets };
  },
  /** Subscribers that each consume every producer of the room; resolves when all their consumers were announced. */
  async addSubscribers(args: {
    roomId: string;
    subs: { token: string }[];
    sink: { ip: string; port: number };
    producers: number;
    srtp?: boolean;
    /** The subscriber transports' SRTP suite (moim's default, AES_CM_128_HMAC_SHA1_80, when absent). */
    srtpCryptoSuite?: string;
    /** false: receive without transport-wide congestion control (withoutTransportCc). */
    tcc?: boolean;
  }) {
    const created = await mapLimit(args.subs, 4, async (x) => {
      const p = await connect(x.token);
      const join = await call<JoinResponse>(p, 'room:join', { roomId: args.roomId });
      const t = await call<TransportInfo & { srtpParameters?: unknown }>(p, 'media:createTransport', {
        roomId: args.roomId,
        direction: 'recv',
        kind: 'plain',
        ...(args.srtp ? { srtp: true } : {}),
        ...(args.srtp && args.srtpCryptoSuite ? { srtpCryptoSuite: args.srtpCryptoSuite } : {}),
      });
      await call(p, 'media:connectTransport', {
        roomId: args.roomId,
        transportId: t.transportId,
        ...args.sink,
        ...(args.srtp
          ? {
              srtpParameters: {
                cryptoSuite: args.srtpCryptoSuite ?? 'AES_CM_128_HMAC_SHA1_80',
                keyBase64: srtpKeyBase64(args.srtpCryptoSuite ?? 'AES_CM_128_HMAC_SHA1_80'),
              },
            }
          : {}),
      });
      const caps =
        args.tcc === false
          ? withoutTransportCc(join.routerRtpCapabilities as Parameters<typeof withoutTransportCc>[0])
          : join.routerRtpCapabilities;
      await call(p, 'media:setCapabilities', { roomId: args.roomId, rtpCapabilities: caps });
      await waitUntil(() => p.consumers >= args.producers, {
        timeoutMs: 30_000,
        intervalMs: 20,
        label: 'consumers announced',
      });
      return p.consumers;
    });
    return { consumers: created.reduce((a, b) => a + b, 0) };
  },
  stats() {
    return { peers: peers.length, consumers: peers.reduce((a, p) => a + p.consumers, 0) };
  },
  close() {
    for (const p of peers.splice(0)) p.socket.disconnect();
    return {};
  },
});
