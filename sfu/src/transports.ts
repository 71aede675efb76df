/**
 * Transports of a MediaRoom peer: checking a create request, opening a WebRTC or plain transport
 * on a router (with the tier's incoming bitrate cap on send transports), connecting it and
 * restarting ICE. MediaRoom decides which router and serialises the calls.
 */
import type {
  DtlsParameters,
  PlainTransport,
  Router,
  SrtpCryptoSuite,
  SrtpParameters,
  TransportObserver,
  WebRtcTransport,
} from 'mediasoup/types';
import { mediaCall, SfuError } from './errors.ts';
import type { SfuLogger } from './logging.ts';
import { type Peer, peerState, type TransportEntry } from './Peer.ts';
import type { RouterEntry } from './RouterSet.ts';
import type { WorkerPool } from './WorkerPool.ts';

export interface TransportRequest {
  direction: 'send' | 'recv';
  kind: 'webrtc' | 'plain';
  forceTcp?: boolean | undefined;
  /** Plain only: SRTP, with `srtpCryptoSuite` (default AES_CM_128_HMAC_SHA1_80). */
  srtp?: boolean | undefined;
  /** Plain SRTP only; Chromium negotiates AEAD_AES_256_GCM with a WebRtcTransport. */
  srtpCryptoSuite?: SrtpCryptoSuite | undefined;
}

export interface ConnectParams {
  dtlsParameters?: unknown;
  ip?: string | undefined;
  port?: number | undefined;
  rtcpPort?: number | undefined;
  srtpParameters?: SrtpParameters | undefined;
}

/** Refuse a request this server or the peer's transport count does not allow. */
export function checkTransportRequest(
  opts: TransportRequest,
  limits: { allowPlain: boolean; max: number; open: number },
): void {
  if (opts.kind === 'plain' && !limits.allowPlain)
    throw new SfuError('FORBIDDEN', 'plain RTP transports are disabled on this server');
  if (opts.srtp && opts.kind !== 'plain')
    throw new SfuError('INVALID_PAYLOAD', 'srtp applies to plain transports (WebRTC is always encrypted)');
  if (opts.srtpCryptoSuite && !opts.srtp)
    throw new SfuError('INVALID_PAYLOAD', 'srtpCryptoSuite needs srtp: true (on a plain transport)');
  if (limits.open >= limits.max)
    throw new SfuError('TOO_MANY_TRANSPORTS', `a peer may have at most ${limits.max} transports`);
}

/** Open the transport on `entry`'s router. */
export function openTransport(
  entry: RouterEntry,
  pool: WorkerPool,
  opts: TransportRequest,
  appData: Record<string, unknown>,
): Promise<WebRtcTransport | PlainTransport> {
  return opts.kind === 'webrtc'
    ? entry.router.createWebRtcTransport({
        webRtcServer: entry.slot.webRtcServer,
        enableUdp: !opts.forceTcp,
        enableTcp: true,
        preferUdp: !opts.forceTcp,
        initialAvailableOutgoingBitrate: 1_000_000,
        appData,
      })
    : entry.router.createPlainTransport({
        listenInfo: pool.plainListenInfo(),
        rtcpMux: true,
        comedia: opts.direction === 'send',
        ...(opts.srtp
          ? { enableSrtp: true, srtpCryptoSuite: opts.srtpCryptoSuite ?? ('AES_CM_128_HMAC_SHA1_80' as const) }
          : {}),
        appData,
      });
}

export async function connectTransport(t: TransportEntry, params: ConnectParams): Promise<void> {
  if (t.kind === 'webrtc') {
    if (!params.dtlsParameters) throw new SfuError('INVALID_PAYLOAD', 'a WebRTC transport needs dtlsParameters');
    const w = t.transport as WebRtcTransport;
    await mediaCall(() => w.connect({ dtlsParameters: params.dtlsParameters as DtlsParameters }), 'INVALID_PAYLOAD');
    return;
  }
  const plain = t.transport as PlainTransport;
  const srtp = plain.srtpParameters !== undefined;
  if (srtp !== (params.srtpParameters !== undefined))
    throw new SfuError(
      'INVALID_PAYLOAD',
      srtp ? 'an SRTP transport needs srtpParameters' : 'this transport is not SRTP',
    );
  const srtpParameters = params.srtpParameters ? { srtpParameters: params.srtpParameters } : {};
  if (t.direction === 'send') {
    // comedia: the plain send transport learns the remote address from the first packet.
    if (params.ip || params.port) throw new SfuError('INVALID_PAYLOAD', 'a plain send transport needs no address');
    if (srtp) await mediaCall(() => plain.connect(srtpParameters), 'INVALID_PAYLOAD');
    return;
  }
  if (!params.ip || !params.port) throw new SfuError('INVALID_PAYLOAD', 'a plain recv transport needs ip and port');
  const { ip, port, rtcpPort } = params;
  await mediaCall(() => plain.connect({ ip, port, ...(rtcpPort ? { rtcpPort } : {}), ...srtpParameters }), 'CONFLICT');
}

export function restartIce(t: TransportEntry): Promise<unknown> {
  if (t.kind !== 'webrtc') throw new SfuError('INVALID_PAYLOAD', 'only WebRTC transports restart ICE');
  return mediaCall(() => (t.transport as WebRtcTransport).restartIce(), 'CONFLICT');
}

/**
 * Apply the tier's incoming bitrate cap to a send transport. Without its cap the transport would
 * break the tier's guarantee: on failure it is closed and refused (MEDIA_ERROR), unless
 * `stillThere` throws first (the room closed or the peer left meanwhile, which is why it failed).
 */
export async function capIncomingBitrate(
  transport: WebRtcTransport | PlainTransport,
  cap: number,
  ctx: { log: SfuLogger; stillThere: () => void },
): Promise<void> {
  try {
    await transport.setMaxIncomingBitrate(cap);
  } catch (err) {
    transport.close();
    ctx.stillThere();
    ctx.log.error({ err, transport: transport.id, cap }, 'could not cap incoming bitrate');
    throw new SfuError('MEDIA_ERROR', `could not apply this tier's incoming bitrate cap (${cap} bits/s)`, {
      cause: err,
    });
  }
}

/** Record the transport on its peer until it closes. */
export function addTransport(
  peer: Peer,
  transport: WebRtcTransport | PlainTransport,
  opts: TransportRequest,
  router: Router,
): TransportEntry {
  const t: TransportEntry = { transport, direction: opts.direction, kind: opts.kind, router };
  const transports = peerState(peer).transports;
  transports.set(transport.id, t);
  (transport.observer as TransportObserver).once('close', () => transports.delete(transport.id));
  return t;
}
