/**
 * A room's WebRTC transports: creating a mediasoup-client send or receive transport from the
 * server's parameters (wiring its `connect` and `produce` to the wire requests) and restarting ICE.
 */
import type { MediaSource, TransportInfo } from '@moim/protocol';
import { MoimError } from '@moim/protocol/client';
import type { Device, types } from 'mediasoup-client';
import { type MoimClient, toMoimError } from '../MoimClient.ts';
import type { NetworkPolicy } from './types.ts';

/** What a transport needs from its room. */
export interface TransportHost {
  readonly client: MoimClient;
  readonly roomId: string;
  closed(): boolean;
}

export async function createTransport(
  host: TransportHost,
  device: Device,
  iceServers: RTCIceServer[],
  direction: 'send' | 'recv',
  network: NetworkPolicy = { strictNetwork: false, forceTcp: false },
): Promise<types.Transport> {
  const { client, roomId } = host;
  if (network.strictNetwork && !iceServers.some((s) => s.urls && [s.urls].flat().some((u) => /^turns?:/.test(u))))
    throw new MoimError('NO_RELAY', 'strict network is on but the server offers no TURN relay');
  const info: TransportInfo = await client.request('media:createTransport', {
    roomId,
    direction,
    ...(network.forceTcp ? { forceTcp: true } : {}),
  });
  const options = {
    id: info.transportId,
    iceParameters: info.iceParameters as types.IceParameters,
    iceCandidates: info.iceCandidates as types.IceCandidate[],
    dtlsParameters: info.dtlsParameters as types.DtlsParameters,
    iceServers,
    // strict network: relay candidates only, so no packet goes anywhere but the TURN server
    iceTransportPolicy: network.strictNetwork ? ('relay' as const) : ('all' as const),
  };
  const transport = direction === 'send' ? device.createSendTransport(options) : device.createRecvTransport(options);
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    client
      .request('media:connectTransport', {
        roomId,
        transportId: transport.id,
        dtlsParameters: dtlsParameters as never,
      })
      .then(() => callback(), errback);
  });
  if (direction === 'send') {
    transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
      const a = appData as { source: MediaSource; index: number; paused: boolean };
      client
        .request('media:produce', {
          roomId,
          transportId: transport.id,
          kind,
          rtpParameters: rtpParameters as never,
          source: a.source,
          index: a.index,
          paused: a.paused,
        })
        .then(({ producerId }) => callback({ id: producerId }), errback);
    });
  }
  transport.on('connectionstatechange', (state) => {
    // a transport whose ICE failed while the socket is up: restart ICE once
    if (state === 'failed' && client.connected && !host.closed()) void restartIce(host, transport);
  });
  return transport;
}

/** Restart ICE on a transport; a failure is reported as the client's `error`. */
export async function restartIce(host: TransportHost, transport: types.Transport): Promise<void> {
  try {
    const { iceParameters, iceServers } = await host.client.request('media:restartIce', {
      roomId: host.roomId,
      transportId: transport.id,
    });
    // fresh TURN credentials first (the join's may have expired), then the new ICE parameters
    if (iceServers.length > 0) await transport.updateIceServers({ iceServers: iceServers.map((s) => ({ ...s })) });
    await transport.restartIce({ iceParameters: iceParameters as types.IceParameters });
  } catch (err) {
    host.client.safeEmit('error', toMoimError(err, 'MEDIA_ERROR'));
  }
}
