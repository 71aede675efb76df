/**
 * A minimal TURN client over TLS (RFC 8656 / 5389 framing, long-term credentials) for tests: it
 * allocates a relay and asks for permissions, so a test can see which peers coturn lets it relay to.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { connect, type TLSSocket } from 'node:tls';

const MAGIC = 0x2112a442;
const ATTR = {
  USERNAME: 0x0006,
  MESSAGE_INTEGRITY: 0x0008,
  ERROR_CODE: 0x0009,
  XOR_PEER_ADDRESS: 0x0012,
  REALM: 0x0014,
  NONCE: 0x0015,
  XOR_RELAYED_ADDRESS: 0x0016,
  REQUESTED_TRANSPORT: 0x0019,
} as const;
const ALLOCATE = 0x0003;
const CREATE_PERMISSION = 0x0008;
const REFRESH = 0x0004;

interface Message {
  type: number;
  attrs: Map<number, Buffer>;
}

export interface TurnReply {
  ok: boolean;
  /** STUN error code (401, 403, 438 …) of an error response. */
  errorCode?: number;
  /** The relayed address of a successful allocation. */
  relayed?: string;
}

function attr(type: number, value: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(value.length, 2);
  const pad = Buffer.alloc((4 - (value.length % 4)) % 4);
  return Buffer.concat([head, value, pad]);
}

function encode(type: number, attrs: Buffer[], key?: Buffer): Buffer {
  const head = Buffer.alloc(20);
  head.writeUInt16BE(type, 0);
  head.writeUInt32BE(MAGIC, 4);
  randomBytes(12).copy(head, 8);
  let body = Buffer.concat(attrs);
  if (key) {
    // the length covers the MESSAGE-INTEGRITY attribute (24 bytes) while the HMAC is computed
    head.writeUInt16BE(body.length + 24, 2);
    const mac = createHmac('sha1', key)
      .update(Buffer.concat([head, body]))
      .digest();
    body = Buffer.concat([body, attr(ATTR.MESSAGE_INTEGRITY, mac)]);
  }
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([head, body]);
}

function decode(buf: Buffer): Message {
  const type = buf.readUInt16BE(0);
  const attrs = new Map<number, Buffer>();
  let at = 20;
  while (at + 4 <= buf.length) {
    const t = buf.readUInt16BE(at);
    const len = buf.readUInt16BE(at + 2);
    attrs.set(t, buf.subarray(at + 4, at + 4 + len));
    at += 4 + len + ((4 - (len % 4)) % 4);
  }
  return { type, attrs };
}

function xorAddress(ip: string, port: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(0x01, 1);
  b.writeUInt16BE(port ^ (MAGIC >>> 16), 2);
  const octets = ip.split('.').map(Number);
  b.writeUInt32BE((((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) ^ MAGIC) >>> 0, 4);
  return b;
}

function readXorAddress(b: Buffer): string {
  const ip = (b.readUInt32BE(4) ^ MAGIC) >>> 0;
  const port = b.readUInt16BE(2) ^ (MAGIC >>> 16);
  return `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}:${port}`;
}

function reply(m: Message): TurnReply {
  const isError = (m.type & 0x0110) === 0x0110;
  if (!isError) {
    const relayed = m.attrs.get(ATTR.XOR_RELAYED_ADDRESS);
    return { ok: true, ...(relayed ? { relayed: readXorAddress(relayed) } : {}) };
  }
  const e = m.attrs.get(ATTR.ERROR_CODE);
  return { ok: false, ...(e ? { errorCode: e.readUInt8(2) * 100 + e.readUInt8(3) } : {}) };
}

/** One TLS connection to a TURN server with REST credentials (`username`, `credential`). */
export class TurnClient {
  readonly #socket: TLSSocket;
  #buffer: Buffer = Buffer.alloc(0);
  #waiting: Array<(m: Message) => void> = [];
  #realm: Buffer = Buffer.alloc(0);
  #nonce: Buffer = Buffer.alloc(0);
  #key: Buffer = Buffer.alloc(0);
  readonly #username: string;

  private constructor(socket: TLSSocket, username: string) {
    this.#socket = socket;
    this.#username = username;
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      while (this.#buffer.length >= 20) {
        const size = 20 + this.#buffer.readUInt16BE(2);
        if (this.#buffer.length < size) break;
        const m = decode(this.#buffer.subarray(0, size));
        this.#buffer = this.#buffer.subarray(size);
        this.#waiting.shift()?.(m);
      }
    });
  }

  static async open(o: {
    host: string;
    port: number;
    ca: string | Buffer;
    servername: string;
    username: string;
    credential: string;
  }): Promise<TurnClient> {
    const socket = connect({ host: o.host, port: o.port, ca: o.ca, servername: o.servername });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => resolve());
      socket.once('error', reject);
    });
    const client = new TurnClient(socket, o.username);
    client.#key = Buffer.from(o.credential);
    return client;
  }

  #send(buf: Buffer): Promise<Message> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('TURN server did not answer within 5 s')), 5000);
      this.#waiting.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
      this.#socket.write(buf);
    });
  }

  #authAttrs(): Buffer[] {
    return [
      attr(ATTR.USERNAME, Buffer.from(this.#username)),
      attr(ATTR.REALM, this.#realm),
      attr(ATTR.NONCE, this.#nonce),
    ];
  }

  #integrityKey(password: Buffer): Buffer {
    return createHash('md5').update(`${this.#username}:${this.#realm.toString()}:${password.toString()}`).digest();
  }

  /** Allocate a UDP relay: first unauthenticated (to learn realm and nonce), then with the credential. */
  async allocate(): Promise<TurnReply> {
    const transport = attr(ATTR.REQUESTED_TRANSPORT, Buffer.from([17, 0, 0, 0]));
    const challenge = await this.#send(encode(ALLOCATE, [transport]));
    const realm = challenge.attrs.get(ATTR.REALM);
    const nonce = challenge.attrs.get(ATTR.NONCE);
    if (!realm || !nonce) return reply(challenge);
    this.#realm = Buffer.from(realm);
    this.#nonce = Buffer.from(nonce);
    this.#key = this.#integrityKey(this.#key);
    return reply(await this.#send(encode(ALLOCATE, [transport, ...this.#authAttrs()], this.#key)));
  }

  /** Ask for permission to relay to `ip` (IPv4). */
  async createPermission(ip: string): Promise<TurnReply> {
    const peer = attr(ATTR.XOR_PEER_ADDRESS, xorAddress(ip, 9));
    return reply(await this.#send(encode(CREATE_PERMISSION, [peer, ...this.#authAttrs()], this.#key)));
  }

  /** Refresh the allocation for `lifetime` seconds (0 releases it). */
  async refresh(lifetime = 600): Promise<TurnReply> {
    const value = Buffer.alloc(4);
    value.writeUInt32BE(lifetime, 0);
    return reply(await this.#send(encode(REFRESH, [attr(0x000d, value), ...this.#authAttrs()], this.#key)));
  }

  close(): void {
    this.#socket.destroy();
  }
}
