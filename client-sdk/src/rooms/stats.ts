import type { types } from 'mediasoup-client';
import { getLogger, LoggerNames } from '../logger.ts';
import type { RemoteTrack } from './RemoteTrack.ts';

const log = getLogger(LoggerNames.Room);

export interface TrackFigures {
  consumerId: string;
  peerId: string;
  kind: 'audio' | 'video';
  source: string;
  bytesReceived: number;
  packetsReceived: number;
  packetsLost: number;
  jitterMs: number | null;
  framesDecoded: number | null;
  frameWidth: number | null;
  frameHeight: number | null;
  /** Server's consumer score (0–10), null before the first report. */
  score: number | null;
}

export interface NetworkQuality {
  at: number;
  /** Round trip to the SFU from the selected ICE candidate pair (ms). */
  rttMs: number | null;
  /** Send-side bandwidth estimate (bits/s). */
  availableOutgoingBitrate: number | null;
  /** Why the browser lowers what it sends (`bandwidth`, `cpu`, `none`…), worst of the video senders. */
  qualityLimitation: string | null;
  bytesSent: number;
  bytesReceived: number;
  /** Fraction of packets lost over all received tracks since they started (0–1). */
  lossRate: number;
  /** `good`, `fair` or `poor` from loss, round trip and scores. */
  level: 'good' | 'fair' | 'poor';
  tracks: TrackFigures[];
}

type Stat = Record<string, unknown> & { type: string; id: string };

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function each(report: RTCStatsReport | undefined): Stat[] {
  const out: Stat[] = [];
  report?.forEach((s: Stat) => {
    out.push(s);
  });
  return out;
}

function selectedPair(stats: Stat[]): Stat | undefined {
  const transport = stats.find((s) => s.type === 'transport');
  const id = transport?.selectedCandidatePairId;
  return (
    (typeof id === 'string' ? stats.find((s) => s.id === id) : undefined) ??
    stats.find((s) => s.type === 'candidate-pair' && s.nominated === true && s.state === 'succeeded')
  );
}

/**
 * A stats report, or none when reading it failed. Figures are best effort: a transport or consumer
 * closing between the check and the read rejects, and its figures are simply left out (at debug).
 */
async function readStats(what: string, read: () => Promise<RTCStatsReport>): Promise<Stat[]> {
  try {
    return each(await read());
  } catch (error) {
    log.debug('stats not read', { what, error });
    return [];
  }
}

/** Read network figures from the transports' and consumers' WebRTC stats. */
export async function readNetworkQuality(
  send: types.Transport | undefined,
  recv: types.Transport | undefined,
  remote: RemoteTrack[],
): Promise<NetworkQuality> {
  const sendStats = send && !send.closed ? await readStats('send transport', () => send.getStats()) : [];
  const recvStats = recv && !recv.closed ? await readStats('recv transport', () => recv.getStats()) : [];
  const pairs = [selectedPair(sendStats), selectedPair(recvStats)].filter((p): p is Stat => p !== undefined);
  const rtts = pairs.map((p) => num(p.currentRoundTripTime)).filter((n): n is number => n !== null);
  const rttMs = rtts.length ? Math.max(...rtts) * 1000 : null;
  const sendPair = selectedPair(sendStats);
  const availableOutgoingBitrate = num(sendPair?.availableOutgoingBitrate);
  let qualityLimitation: string | null = null;
  let bytesSent = 0;
  for (const s of sendStats) {
    if (s.type !== 'outbound-rtp') continue;
    bytesSent += num(s.bytesSent) ?? 0;
    const reason = typeof s.qualityLimitationReason === 'string' ? s.qualityLimitationReason : null;
    if (reason && reason !== 'none') qualityLimitation = reason;
    else qualityLimitation ??= reason;
  }
  const tracks: TrackFigures[] = [];
  let received = 0;
  let lost = 0;
  let bytesReceived = 0;
  for (const t of remote) {
    if (t.closed) continue;
    const stats = await readStats(`consumer ${t.consumerId}`, () => t.getStats());
    const inbound = stats.find((s) => s.type === 'inbound-rtp' && s.kind === t.kind);
    const f: TrackFigures = {
      consumerId: t.consumerId,
      peerId: t.peerId,
      kind: t.kind,
      source: t.source,
      bytesReceived: num(inbound?.bytesReceived) ?? 0,
      packetsReceived: num(inbound?.packetsReceived) ?? 0,
      packetsLost: Math.max(0, num(inbound?.packetsLost) ?? 0),
      jitterMs: num(inbound?.jitter) === null ? null : num(inbound?.jitter)! * 1000,
      framesDecoded: num(inbound?.framesDecoded),
      frameWidth: num(inbound?.frameWidth),
      frameHeight: num(inbound?.frameHeight),
      score: t.score,
    };
    received += f.packetsReceived;
    lost += f.packetsLost;
    bytesReceived += f.bytesReceived;
    tracks.push(f);
  }
  const lossRate = received + lost > 0 ? lost / (received + lost) : 0;
  const scores = tracks.map((t) => t.score).filter((s): s is number => s !== null);
  const minScore = scores.length ? Math.min(...scores) : 10;
  const level: NetworkQuality['level'] =
    lossRate > 0.08 || (rttMs ?? 0) > 600 || minScore <= 3
      ? 'poor'
      : lossRate > 0.02 || (rttMs ?? 0) > 250 || minScore <= 6
        ? 'fair'
        : 'good';
  return {
    at: Date.now(),
    rttMs,
    availableOutgoingBitrate,
    qualityLimitation,
    bytesSent,
    bytesReceived,
    lossRate,
    level,
    tracks,
  };
}
