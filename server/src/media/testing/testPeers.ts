import { randomBytes } from 'node:crypto';
import type { ConsumerInfo, JoinResponse, TransportInfo } from '@moim/protocol';
import {
  opusRtpParameters,
  plainRecvCapabilities,
  RtpGenerator,
  RtpSink,
  vp8RtpParameters,
  waitFor,
} from '@moim/sfu/testing';
import type { RtpCapabilities } from 'mediasoup/types';
import { call, type TestServer, type TestSocket } from '../../testing/index.ts';

/**
 * Test clients for the media signalling that speak plain RTP (needs MOIM_SFU_ALLOW_PLAIN=true):
 * they join over socket.io, publish generated RTP and count what they receive.
 */

export interface Recorded {
  event: string;
  payload: unknown;
}

export interface MediaTestPeer {
  socket: TestSocket;
  token: string;
  /** Every server event received, in order. */
  events: Recorded[];
  /** Consumers announced with `media:newConsumer`. */
  consumers: ConsumerInfo[];
  /** Acknowledge `media:newConsumer` automatically (the server then resumes the consumer). */
  autoAck: boolean;
  join(roomId: string, extra?: Record<string, unknown>): Promise<JoinResponse>;
  /** Wait for an event whose payload satisfies `filter` (already received ones count). */
  waitEvent<T = Record<string, unknown>>(event: string, filter?: (p: T) => boolean, timeoutMs?: number): Promise<T>;
  close(): void;
}

type Grants = {
  rooms?: Record<string, string[]>;
  docs?: Record<string, string[]>;
  chat?: boolean;
  createRooms?: string[];
};

export async function mediaPeer(
  server: TestServer,
  who: { name: string; role?: 'admin' | 'manager' | 'member'; grants?: Grants; sub?: string },
  token?: string,
): Promise<MediaTestPeer> {
  const tok =
    token ??
    (await server.token({
      name: who.name,
      role: who.role ?? 'member',
      ...(who.grants ? { grants: who.grants } : {}),
      ...(who.sub ? { sub: who.sub } : {}),
    }));
  const socket = await server.connect(tok);
  const events: Recorded[] = [];
  const consumers: ConsumerInfo[] = [];
  const peer: MediaTestPeer = {
    socket,
    token: tok,
    events,
    consumers,
    autoAck: true,
    join: (roomId, extra = {}) => call<JoinResponse>(socket, 'room:join', { roomId, ...extra }),
    waitEvent: <T>(event: string, filter: (p: T) => boolean = () => true, timeoutMs = 15_000) =>
      waitFor(() => events.find((e) => e.event === event && filter(e.payload as T))?.payload as T, {
        timeoutMs,
        what: event,
      }),
    close: () => socket.disconnect(),
  };
  socket.onAny((event: string, ...args: unknown[]) => {
    const payload = args[0];
    events.push({ event, payload });
    if (event === 'media:newConsumer') {
      consumers.push(payload as ConsumerInfo);
      const ack = args[1];
      if (peer.autoAck && typeof ack === 'function') (ack as (r: unknown) => void)({});
    }
  });
  return peer;
}

/** Create a plain send transport and start generated media; returns the producer ids. */
export async function publishPlain(
  peer: MediaTestPeer,
  roomId: string,
  media: { video?: number[]; audio?: number; maxBitrates?: number[]; start?: boolean; bindIp?: string } = {
    video: [1000],
    audio: 2000,
  },
): Promise<{ gen: RtpGenerator; transport: TransportInfo; video?: string; audio?: string }> {
  const transport = await call<TransportInfo>(peer.socket, 'media:createTransport', {
    roomId,
    direction: 'send',
    kind: 'plain',
  });
  // `bindIp`: the address the media comes from (a client at another site, 127.0.0.x)
  const gen = await RtpGenerator.open({ ip: transport.ip!, port: transport.port! }, media.bindIp);
  const out: { gen: RtpGenerator; transport: TransportInfo; video?: string; audio?: string } = { gen, transport };
  if (media.video) {
    const sizes = [
      [320, 180, 300],
      [640, 360, 600],
      [1280, 720, 1000],
    ] as const;
    media.video.forEach((ssrc, i) => {
      const [width, height, frameBytes] = sizes[media.video!.length === 1 ? 1 : i] ?? sizes[2];
      gen.addVideo({ ssrc, payloadType: 101, width, height, frameBytes });
    });
    out.video = (
      await call<{ producerId: string }>(peer.socket, 'media:produce', {
        roomId,
        transportId: transport.transportId,
        kind: 'video',
        source: 'camera',
        rtpParameters: vp8RtpParameters(media.video, media.maxBitrates ? { maxBitrates: media.maxBitrates } : {}),
      })
    ).producerId;
  }
  if (media.audio !== undefined) {
    gen.addAudio({ ssrc: media.audio, payloadType: 100, audioLevelExtensionId: 10, level: 25 });
    out.audio = (
      await call<{ producerId: string }>(peer.socket, 'media:produce', {
        roomId,
        transportId: transport.transportId,
        kind: 'audio',
        source: 'mic',
        rtpParameters: opusRtpParameters(media.audio),
      })
    ).producerId;
  }
  if (media.start !== false) gen.start();
  return out;
}

/** Create a plain recv transport to a local UDP sink and announce capabilities. */
export async function subscribePlain(
  peer: MediaTestPeer,
  roomId: string,
  routerRtpCapabilities: unknown,
  opts: { srtp?: boolean; srtpCryptoSuite?: string; bindIp?: string } = {},
): Promise<{ sink: RtpSink; transport: TransportInfo }> {
  const sink = await RtpSink.open(opts.bindIp);
  const transport = await call<TransportInfo>(peer.socket, 'media:createTransport', {
    roomId,
    direction: 'recv',
    kind: 'plain',
    ...(opts.srtp ? { srtp: true } : {}),
    ...(opts.srtpCryptoSuite ? { srtpCryptoSuite: opts.srtpCryptoSuite } : {}),
  });
  // the far end's key (the sink only counts packets, so any key of the right length will do)
  const srtpParameters = opts.srtp
    ? { srtpParameters: { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: randomBytes(44).toString('base64') } }
    : {};
  await call(peer.socket, 'media:connectTransport', {
    roomId,
    transportId: transport.transportId,
    ...sink.address,
    ...srtpParameters,
  });
  await call(peer.socket, 'media:setCapabilities', {
    roomId,
    rtpCapabilities: plainRecvCapabilities(routerRtpCapabilities as RtpCapabilities),
  });
  return { sink, transport };
}

/** Bytes a consumer has sent, read through `media:getStats`. */
export async function consumerBytes(peer: MediaTestPeer, roomId: string, consumerId: string): Promise<number> {
  const { stats } = await call<{ stats: Array<{ type: string; byteCount: number }> }>(peer.socket, 'media:getStats', {
    roomId,
    type: 'consumer',
    id: consumerId,
  });
  return stats.find((s) => s.type === 'outbound-rtp')?.byteCount ?? 0;
}

export async function createRoom(peer: MediaTestPeer, tier: 'personal' | 'standard' | 'immersive' = 'standard') {
  return call<{ roomId: string; docName: string; tier: string }>(peer.socket, 'room:create', { tier });
}
