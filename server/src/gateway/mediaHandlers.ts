import type { Principal } from '../auth/Principal.ts';
import type { MediaChannel, MediaService } from '../media/MediaService.ts';
import type { Connection, Gateway, HandlerTable } from './Gateway.ts';

/** A peer's channel on its socket: one-way events, and `media:newConsumer` with an acknowledgement. */
export function socketChannel(conn: Connection): MediaChannel {
  const socket = conn.socket;
  const emit = socket.emit.bind(socket) as unknown as (event: string, payload: unknown) => boolean;
  return {
    connectionId: conn.id,
    principal: () => conn.principal,
    emit: (signal) => {
      if (socket.connected) emit(signal.event, signal.payload);
    },
    newConsumer: async (payload, timeoutMs) => {
      if (!socket.connected) throw new Error('socket disconnected');
      await socket.timeout(timeoutMs).emitWithAck('media:newConsumer', payload);
    },
  };
}

/**
 * Wire video rooms to the gateway: their requests, a closed socket (its peers wait for a resume),
 * and a refreshed token (`reauth`: leave the rooms the new token no longer allows, before
 * `system:auth` is answered).
 */
export function wireMedia(
  gateway: Gateway,
  media: MediaService,
  relay?: MediaRelayHooks,
  /** More requests addressed to a room's home node (recordings). */
  extra: HandlerTable = {},
): void {
  const local = { ...mediaHandlers(media), ...extra };
  gateway.register(relay ? relay.gatewayHandlers(local) : local);
  gateway.on('disconnect', (conn) => {
    media.connectionClosed(conn.id);
    relay?.connectionClosed(conn.id);
  });
  gateway.on('reauth', (conn, _previous, next) => {
    const left = media.reauthorize(conn.id, next);
    if (left.length > 0) conn.log.info({ rooms: left }, 'media: left rooms the refreshed token does not allow');
    relay?.reauth(conn.id, next);
  });
}

/** What the cluster's media relay (cluster/MediaRelay.ts) adds to the wiring. */
export interface MediaRelayHooks {
  gatewayHandlers(local: HandlerTable): HandlerTable;
  connectionClosed(connectionId: string): void;
  reauth(connectionId: string, next: Principal): void;
}

/**
 * Rooms and media signalling: validate (the gateway did), authorise and call the media service.
 * Every handler passes the connection's current principal, so grants are re-checked per request.
 * The SFU's own errors become wire codes in the gateway (`lib/wireErrors.ts`, the one mapping).
 */
export function mediaHandlers(
  media: MediaService,
  channelOf: (conn: Connection) => MediaChannel = socketChannel,
): HandlerTable {
  return {
    'room:create': (d, c) => media.createRoom(c.principal, d),
    'room:info': (d, c) => media.roomInfo(c.principal, d),
    'room:join': (d, c) => media.join(c.principal, channelOf(c), d),
    'room:leave': (d, c) => media.leave(c.principal, c.id, d),
    'room:raiseHand': (d, c) => media.raiseHand(c.principal, c.id, d),
    'room:mutePeer': (d, c) => media.moderation.mutePeer(c.principal, d),
    'room:stopVideo': (d, c) => media.moderation.stopVideo(c.principal, d),
    'room:removePeer': (d, c) => media.moderation.removePeer(c.principal, d),
    'room:close': (d, c) => media.moderation.closeRoom(c.principal, d),
    'media:createTransport': (d, c) => media.signalling.createTransport(c.principal, c.id, d),
    'media:connectTransport': (d, c) => media.signalling.connectTransport(c.principal, c.id, d),
    'media:restartIce': (d, c) => media.signalling.restartIce(c.principal, c.id, d),
    'media:setCapabilities': (d, c) => media.signalling.setCapabilities(c.principal, c.id, d),
    'media:produce': (d, c) => media.signalling.produce(c.principal, c.id, d),
    'media:closeProducer': (d, c) => media.signalling.closeProducer(c.principal, c.id, d),
    'media:pauseProducer': (d, c) => media.signalling.setProducerPaused(c.principal, c.id, d, true),
    'media:resumeProducer': (d, c) => media.signalling.setProducerPaused(c.principal, c.id, d, false),
    'media:consume': (d, c) => media.signalling.consume(c.principal, c.id, d),
    'media:closeConsumer': (d, c) => media.signalling.closeConsumer(c.principal, c.id, d),
    'media:pauseConsumer': (d, c) => media.signalling.setConsumerPaused(c.principal, c.id, d, true),
    'media:resumeConsumer': (d, c) => media.signalling.setConsumerPaused(c.principal, c.id, d, false),
    'media:setPreferredLayers': (d, c) => media.signalling.setPreferredLayers(c.principal, c.id, d),
    'media:setPriority': (d, c) => media.signalling.setPriority(c.principal, c.id, d),
    'media:requestKeyFrame': (d, c) => media.signalling.requestKeyFrame(c.principal, c.id, d),
    'media:getStats': (d, c) => media.signalling.getStats(c.principal, c.id, d),
  };
}
