/**
 * Baseline for bench:sfu: a bare mediasoup script — one worker, one router per "room" with
 * moim's router codecs, plain-RTP producers (comedia) and, per subscriber, a plain transport to
 * a receiver with one consumer of every producer of its room, created exactly as moim creates
 * them (router RTP capabilities, `enableRtx`, `ignoreDtx`, paused then resumed) — with no
 * signalling, no rooms, no peers around them. Optionally SRTP on the subscriber transports (what
 * WebRTC clients get). Driven over IPC by bench/sfu.ts (a generator process).
 */
import { TIER_PROFILES } from '@moim/protocol';
import { routerMediaCodecs } from '@moim/sfu';
import { vp8RtpParameters } from '@moim/sfu/testing';
import * as mediasoup from 'mediasoup';
import type { PlainTransport, Producer, Router, SrtpCryptoSuite, Worker } from 'mediasoup/types';
import { serve } from '../lib/generators.ts';
import { srtpKeyBase64, withoutTransportCc } from '../lib/rtp.ts';

let worker: Worker | undefined;
/** `likeMoim`: what moim adds around a router (speaker observers) and on a worker (a WebRtcServer). */
let likeMoim = false;
const rooms: { router: Router; producers: Producer[]; transports: PlainTransport[] }[] = [];
let consumers = 0;

serve({
  async start(args: { logLevel?: 'warn' | 'none'; likeMoim?: boolean } = {}) {
    worker = await mediasoup.createWorker({
      logLevel: args.logLevel ?? 'warn',
      logTags: ['info', 'ice', 'dtls', 'rtp', 'srtp', 'rtcp', 'simulcast'],
    });
    worker.on('died', () => process.exit(1));
    likeMoim = args.likeMoim ?? false;
    if (likeMoim)
      await worker.createWebRtcServer({
        listenInfos: [
          { protocol: 'udp', ip: '127.0.0.1' },
          { protocol: 'tcp', ip: '127.0.0.1' },
        ],
      });
    return { workerPid: worker.pid };
  },
  /** A router with `producers` VP8 producers on plain transports; returns where to send each. */
  async addRoom(args: { producers: number; ssrcBase: number }) {
    if (!worker) throw new Error('start first');
    const router = await worker.createRouter({ mediaCodecs: routerMediaCodecs(TIER_PROFILES.standard) });
    if (likeMoim) {
      // as sfu/src/observers.ts (the standard tier's audio level interval)
      await router.createActiveSpeakerObserver({ interval: 300 });
      await router.createAudioLevelObserver({
        maxEntries: 5,
        threshold: -70,
        interval: 1000, // MediaRoom's default
      });
    }
    const room = { router, producers: [] as Producer[], transports: [] as PlainTransport[] };
    const targets: { ssrc: number; ip: string; port: number }[] = [];
    for (let i = 0; i < args.producers; i++) {
      const t = await router.createPlainTransport({
        listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
        rtcpMux: true,
        comedia: true,
      });
      await t.setMaxIncomingBitrate(TIER_PROFILES.standard.maxIncomingBitrate).catch(() => {});
      const ssrc = args.ssrcBase + i;
      room.producers.push(await t.produce({ kind: 'video', rtpParameters: vp8RtpParameters([ssrc]) }));
      room.transports.push(t);
      targets.push({ ssrc, ip: t.tuple.localAddress, port: t.tuple.localPort });
    }
    rooms.push(room);
    return { room: rooms.length - 1, targets };
  },
  /** `count` subscribers in `room`, each a plain transport to `sink` consuming every producer. */
  async addSubscribers(args: {
    room: number;
    count: number;
    sink: { ip: string; port: number };
    srtp?: boolean;
    srtpCryptoSuite?: SrtpCryptoSuite;
    /** false: consume without transport-wide congestion control (withoutTransportCc). */
    tcc?: boolean;
  }) {
    const suite = args.srtpCryptoSuite ?? 'AES_CM_128_HMAC_SHA1_80';
    const room = rooms[args.room];
    if (!room) throw new Error(`no room ${args.room}`);
    const caps =
      args.tcc === false
        ? withoutTransportCc(room.router.rtpCapabilities)
        : structuredClone(room.router.rtpCapabilities);
    // four subscribers at a time, each consuming every producer at once (as moim's signalling does for its peers)
    let next = 0;
    const subscriber = async () => {
      const t = await room.router.createPlainTransport({
        listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
        rtcpMux: true,
        comedia: false,
        ...(args.srtp ? { enableSrtp: true, srtpCryptoSuite: suite } : {}),
      });
      await t.connect({
        ip: args.sink.ip,
        port: args.sink.port,
        ...(args.srtp
          ? {
              srtpParameters: { cryptoSuite: suite, keyBase64: srtpKeyBase64(suite) },
            }
          : {}),
      });
      room.transports.push(t);
      await Promise.all(
        room.producers.map(async (p) => {
          const c = await t.consume({
            producerId: p.id,
            rtpCapabilities: caps,
            paused: true,
            enableRtx: true,
            ignoreDtx: true,
          });
          await c.resume();
          consumers++;
        }),
      );
    };
    await Promise.all(
      Array.from({ length: Math.min(4, args.count) }, async () => {
        while (next < args.count) {
          next++;
          await subscriber();
        }
      }),
    );
    return { consumers };
  },
  stats() {
    return { consumers, rooms: rooms.length };
  },
  close() {
    worker?.close();
    return {};
  },
});
