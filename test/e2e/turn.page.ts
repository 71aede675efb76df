/**
 * Browser side of turn.e2e.test.ts, bundled by vite into an IIFE: the real client SDK joining a
 * room with a network policy (strict network = relay only, or TCP only), the figures of the
 * selected ICE candidate pair of its receive transport, and a bare RTCPeerConnection gathering
 * relay candidates with given TURN credentials (to see coturn refuse bad ones).
 */
import { connect, type MoimClient, type Room } from '@moim/client-sdk';

interface PairFigures {
  state: string;
  localType: string;
  localProtocol: string;
  relayProtocol: string | undefined;
  remoteProtocol: string;
  bytesReceived: number;
  framesDecoded: number;
}

const state: { client?: MoimClient; room?: Room; errors: string[] } = { errors: [] };

async function join(o: {
  url: string;
  token: string;
  roomId: string;
  strictNetwork: boolean;
  forceTcp: boolean;
  publish: boolean;
}): Promise<void> {
  const client = await connect({
    url: o.url,
    getToken: () => o.token,
    rooms: { strictNetwork: o.strictNetwork, forceTcp: o.forceTcp },
  });
  client.on('error', (e) => state.errors.push(`${e.code}: ${e.message}`));
  state.client = client;
  const room = await client.rooms.join(o.roomId);
  state.room = room;
  if (o.publish) await room.publishCamera();
}

/** The receive transport's selected candidate pair and the decoded video frames. */
async function recvFigures(): Promise<PairFigures | undefined> {
  const recv = state.room?.transports.recv;
  if (!recv) return undefined;
  const report = await recv.getStats();
  const byId = new Map<string, Record<string, unknown>>();
  report.forEach((s: Record<string, unknown>) => {
    byId.set(String(s.id), s);
  });
  let pairId: string | undefined;
  let framesDecoded = 0;
  for (const s of byId.values()) {
    if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') pairId = s.selectedCandidatePairId;
    if (s.type === 'inbound-rtp' && s.kind === 'video') framesDecoded += Number(s.framesDecoded ?? 0);
  }
  const pair = pairId ? byId.get(pairId) : undefined;
  if (!pair) return undefined;
  const local = byId.get(String(pair.localCandidateId)) ?? {};
  const remote = byId.get(String(pair.remoteCandidateId)) ?? {};
  return {
    state: String(pair.state),
    localType: String(local.candidateType),
    localProtocol: String(local.protocol),
    relayProtocol: local.relayProtocol === undefined ? undefined : String(local.relayProtocol),
    remoteProtocol: String(remote.protocol),
    bytesReceived: Number(pair.bytesReceived ?? 0),
    framesDecoded,
  };
}

/** Gather with relay-only ICE: the relay candidates found and the TURN errors reported. */
async function gather(iceServers: RTCIceServer[]): Promise<{
  relay: Array<{ address: string | null; relayProtocol: string | undefined }>;
  errors: Array<{ errorCode: number; url: string }>;
}> {
  const pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: 'relay' });
  const relay: Array<{ address: string | null; relayProtocol: string | undefined }> = [];
  const errors: Array<{ errorCode: number; url: string }> = [];
  pc.addEventListener('icecandidateerror', (e) => errors.push({ errorCode: e.errorCode, url: e.url }));
  const done = new Promise<void>((resolve) => {
    pc.addEventListener('icecandidate', (e) => {
      if (!e.candidate) return resolve();
      const c = e.candidate as RTCIceCandidate & { relayProtocol?: string };
      if (c.type === 'relay') relay.push({ address: c.address, relayProtocol: c.relayProtocol });
    });
  });
  pc.createDataChannel('probe');
  await pc.setLocalDescription(await pc.createOffer());
  await done;
  pc.close();
  return { relay, errors };
}

(globalThis as unknown as { moim: unknown }).moim = {
  join,
  recvFigures,
  gather,
  errors: () => state.errors,
};
