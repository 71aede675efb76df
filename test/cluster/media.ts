/**
 * Video-room helpers of the cluster tests: plain-RTP media peers on one node process, the number of
 * live rooms a node reports, and a key read from the cluster's Redis (a room's home).
 */
import { Redis } from 'ioredis';
import { type MediaTestPeer, mediaPeer } from '../../server/src/media/testing/testPeers.ts';
import type { TestServer } from '../../server/src/testing/index.ts';
import { devToken, type ServerProcess } from '../support/serverProcess.ts';
import { connect } from './support.ts';

/** A media test peer (plain RTP) connected straight to `node`. */
export function peerOn(node: ServerProcess, name: string): Promise<MediaTestPeer> {
  const server = {
    url: node.url,
    token: (input: { name: string }) => devToken(node.url, input),
    connect: (token: string) => connect(node.url, token),
  } as unknown as TestServer;
  return mediaPeer(server, { name });
}

/** Live SFU rooms on `node` (its `moim_sfu_rooms` gauge). */
export async function liveRooms(node: ServerProcess): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  return Number(/^moim_sfu_rooms\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? '0');
}

/** One key of the cluster's Redis, on a connection of its own. */
export async function redisGet(redisUrl: string, key: string): Promise<string | null> {
  const r = new Redis(redisUrl);
  try {
    return await r.get(key);
  } finally {
    r.disconnect();
  }
}
