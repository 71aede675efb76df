/**
 * The signalling shared by the minimal mediasoup-client peers of the test pages (sfu-webrtc.page.ts,
 * recording.page.ts), bundled into each: connect to the real server, join a room, and make
 * transports wired to `media:connectTransport` and `media:produce`. Browser code only.
 */
import { Device } from 'mediasoup-client';
import type { Transport } from 'mediasoup-client/types';
import { io, type Socket } from 'socket.io-client';

/** An acknowledged request: its data, or an Error naming the refusal's code. */
export type Req = <T = Record<string, unknown>>(event: string, data: unknown) => Promise<T>;

export interface PagePeer<J> {
  socket: Socket;
  req: Req;
  /** The answer of `room:join`. */
  join: J & { peerId: string; iceServers: RTCIceServer[] };
  device: Device;
  /** A transport of this peer in the room, wired to the server's signalling. */
  transport(direction: 'send' | 'recv'): Promise<Transport>;
}

/**
 * Connect with `token`, let `beforeJoin` add its listeners to the socket, join `roomId` and load the
 * device with the router's capabilities.
 */
export async function joinAsPagePeer<J = Record<string, never>>(
  opts: { url: string; token: string; roomId: string },
  beforeJoin: (socket: Socket) => void = () => {},
): Promise<PagePeer<J>> {
  const socket = io(opts.url, { transports: ['websocket'], auth: { token: opts.token, protocol: 1 } });
  const req: Req = async <T>(event: string, data: unknown) => {
    const ack = (await socket.timeout(15_000).emitWithAck(event, data)) as
      | { data: T }
      | { error: { code: string; message: string } };
    if ('error' in ack) throw new Error(`${event}: ${ack.error.code} ${ack.error.message}`);
    return ack.data;
  };
  beforeJoin(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  const { roomId } = opts;
  const join = await req<PagePeer<J>['join'] & { routerRtpCapabilities: never }>('room:join', { roomId });
  const device = new Device();
  await device.load({ routerRtpCapabilities: join.routerRtpCapabilities });
  const transport = async (direction: 'send' | 'recv'): Promise<Transport> => {
    const info = await req<{ transportId: string; iceParameters: never; iceCandidates: never; dtlsParameters: never }>(
      'media:createTransport',
      { roomId, direction },
    );
    const params = {
      id: info.transportId,
      iceParameters: info.iceParameters,
      iceCandidates: info.iceCandidates,
      dtlsParameters: info.dtlsParameters,
      iceServers: join.iceServers,
    };
    const t = direction === 'send' ? device.createSendTransport(params) : device.createRecvTransport(params);
    t.on('connect', ({ dtlsParameters }, callback, errback) => {
      req('media:connectTransport', { roomId, transportId: t.id, dtlsParameters }).then(() => callback(), errback);
    });
    t.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
      req<{ producerId: string }>('media:produce', {
        roomId,
        transportId: t.id,
        kind,
        rtpParameters,
        source: (appData as { source: string }).source,
      }).then(({ producerId }) => callback({ id: producerId }), errback);
    });
    return t;
  };
  return { socket, req, join, device, transport };
}
