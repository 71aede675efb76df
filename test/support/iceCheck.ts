/**
 * One ICE connectivity check, as a browser sends it: a STUN Binding request with ICE short-term
 * credentials (RFC 8445 / 5389: USERNAME `server:client`, PRIORITY, ICE-CONTROLLING,
 * USE-CANDIDATE, MESSAGE-INTEGRITY keyed by the server's ICE password, FINGERPRINT) sent over UDP
 * to a WebRTC transport's candidate. mediasoup answers a Binding success response only when the
 * request reached the right transport with the right password, and then counts the transport as
 * ICE-connected: proof that the candidate's address and port really serve media.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';

const MAGIC = 0x2112a442;
const BINDING_REQUEST = 0x0001;
const BINDING_SUCCESS = 0x0101;

function attr(type: number, value: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(value.length, 2);
  return Buffer.concat([head, value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
}

function header(type: number, length: number, id: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(type, 0);
  h.writeUInt16BE(length, 2);
  h.writeUInt32BE(MAGIC, 4);
  id.copy(h, 8);
  return h;
}

/** CRC-32 (IEEE), for STUN's FINGERPRINT. */
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** The Binding request (exported for reading; `iceCheck` sends it). */
export function bindingRequest(o: { serverUfrag: string; serverPassword: string }): Buffer {
  const id = randomBytes(12);
  const priority = Buffer.alloc(4);
  priority.writeUInt32BE(0x6e0001ff, 0);
  let body = Buffer.concat([
    attr(0x0006, Buffer.from(`${o.serverUfrag}:moimtest`)), // USERNAME
    attr(0x0024, priority), // PRIORITY
    attr(0x802a, randomBytes(8)), // ICE-CONTROLLING
    attr(0x0025, Buffer.alloc(0)), // USE-CANDIDATE
  ]);
  // MESSAGE-INTEGRITY over the message with the length counting it (24 bytes)
  const mac = createHmac('sha1', o.serverPassword)
    .update(Buffer.concat([header(BINDING_REQUEST, body.length + 24, id), body]))
    .digest();
  body = Buffer.concat([body, attr(0x0008, mac)]);
  // FINGERPRINT over the message with the length counting it (8 bytes)
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE((crc32(Buffer.concat([header(BINDING_REQUEST, body.length + 8, id), body])) ^ 0x5354554e) >>> 0, 0);
  body = Buffer.concat([body, attr(0x8028, crc)]);
  return Buffer.concat([header(BINDING_REQUEST, body.length, id), body]);
}

/** Send one check to `ip:port` over UDP; resolves with the STUN message type of the answer (0x0101: success). */
export async function iceCheck(
  target: { ip: string; port: number },
  ice: { usernameFragment: string; password: string },
  timeoutMs = 5000,
): Promise<{ type: number; success: boolean }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  try {
    const request = bindingRequest({ serverUfrag: ice.usernameFragment, serverPassword: ice.password });
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no STUN answer from ${target.ip}:${target.port}`)), timeoutMs);
      socket.on('message', (msg) => {
        if (msg.length < 20 || msg.readUInt32BE(4) !== MAGIC || !msg.subarray(8, 20).equals(request.subarray(8, 20)))
          return;
        clearTimeout(timer);
        const type = msg.readUInt16BE(0);
        resolve({ type, success: type === BINDING_SUCCESS });
      });
      socket.send(request, target.port, target.ip);
    });
  } finally {
    socket.close();
  }
}
