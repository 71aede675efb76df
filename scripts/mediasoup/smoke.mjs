// Smoke test of the mediasoup worker built by scripts/mediasoup/build-worker.sh.
//
//   node scripts/mediasoup/smoke.mjs        (from the repo root, Node >= 22)
//
// Exits 0 when everything passed. Checks:
//   1. worker + router (opus, VP8) + WebRtcTransport (UDP+TCP on 127.0.0.1).
//   2. fake VP8 and opus RTP from Node (dgram) into PlainTransport producers,
//      forwarded to plain RTP consumers received back in Node.
//   3. SRTP (libsrtp3 API shim on Debian's libsrtp2): a VP8 consumer on an SRTP
//      PlainTransport looped back into another SRTP PlainTransport producer, which
//      must decrypt the packets, for each crypto suite.
//   4. DTLS (the DtlsTransport.cpp BIO callback fix): ICE (STUN from Node) + a DTLS
//      1.2 handshake with `openssl s_client` against a WebRtcTransport; the worker
//      must survive and reach dtlsState 'connected' (skipped without the openssl CLI).
//
// It also prints which libsrtp and crypto backend the worker uses (read from the binary
// and, when libsrtp is a shared library, from the library ldd names): build-worker.sh
// links a static libsrtp 2 built with OpenSSL and falls back to Debian's libsrtp2, which
// is built on NSS (~1.4x the worker CPU per AES_CM SRTP packet). MOIM_SMOKE_REQUIRE_OPENSSL_SRTP=1
// makes anything but OpenSSL a failure.

import { execFileSync, spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

// Resolve mediasoup from the current directory (repo root), then from this file.
function loadMediasoup() {
  for (const base of [path.join(process.cwd(), 'package.json'), import.meta.filename]) {
    try {
      return createRequire(base)('mediasoup');
    } catch (error) {
      if (error.code !== 'MODULE_NOT_FOUND') throw error;
    }
  }
  throw new Error('cannot find the mediasoup package (run from the repo root after npm ci)');
}

const mediasoup = loadMediasoup();
const IP = '127.0.0.1';
const results = [];
let failed = 0;

function check(name, ok, detail = '') {
  results.push({ name, ok });
  if (!ok) failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` (${detail})` : ''}`);
}

function skip(name, why) {
  console.log(`skip ${name} (${why})`);
}

const mediaCodecs = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
];

// ---- fake RTP -------------------------------------------------------------------
function rtpPacket({ pt, seq, ts, ssrc, marker, payload }) {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = (marker ? 0x80 : 0) | pt;
  header.writeUInt16BE(seq & 0xffff, 2);
  header.writeUInt32BE(ts >>> 0, 4);
  header.writeUInt32BE(ssrc >>> 0, 8);
  return Buffer.concat([header, payload]);
}

function vp8Payload(keyFrame) {
  // VP8 payload descriptor: S=1, PID=0, no extensions.
  const descriptor = Buffer.from([0x10]);
  // VP8 frame tag (bit 0 = 0 for a key frame, show_frame=1) + key frame start
  // code and 320x180 dimensions.
  const frame = keyFrame
    ? Buffer.from([0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xb4, 0x00])
    : Buffer.from([0x11, 0x02, 0x00]);
  return Buffer.concat([descriptor, frame, crypto.randomBytes(300)]);
}

function startRtpSender(socket, port, { vp8Ssrc, opusSsrc }) {
  let n = 0;
  const timer = setInterval(() => {
    n++;
    if (vp8Ssrc !== undefined) {
      socket.send(
        rtpPacket({ pt: 101, seq: n, ts: n * 3000, ssrc: vp8Ssrc, marker: true, payload: vp8Payload(n % 10 === 1) }),
        port,
        IP,
      );
    }
    if (opusSsrc !== undefined) {
      socket.send(
        rtpPacket({ pt: 100, seq: n, ts: n * 960, ssrc: opusSsrc, marker: false, payload: crypto.randomBytes(80) }),
        port,
        IP,
      );
    }
  }, 20);
  return () => clearInterval(timer);
}

function bindUdp() {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, IP, () => resolve(socket));
  });
}

async function statsOf(entity, type) {
  const stats = await entity.getStats();
  return stats.find((s) => s.type === type) ?? {};
}

// ---- STUN (ICE binding request from Node) ------------------------------------------
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function stunAttr(type, value) {
  const pad = (4 - (value.length % 4)) % 4;
  const attr = Buffer.alloc(4 + value.length + pad);
  attr.writeUInt16BE(type, 0);
  attr.writeUInt16BE(value.length, 2);
  value.copy(attr, 4);
  return attr;
}

function stunBindingRequest({ username, password }) {
  const header = Buffer.alloc(20);
  header.writeUInt16BE(0x0001, 0); // Binding request
  header.writeUInt32BE(0x2112a442, 4); // magic cookie
  crypto.randomBytes(12).copy(header, 8);
  const priority = Buffer.alloc(4);
  priority.writeUInt32BE(0x6e7f00ff, 0);
  let attrs = Buffer.concat([
    stunAttr(0x0006, Buffer.from(username)), // USERNAME
    stunAttr(0x0024, priority), // PRIORITY
    stunAttr(0x802a, crypto.randomBytes(8)), // ICE-CONTROLLING
    stunAttr(0x0025, Buffer.alloc(0)), // USE-CANDIDATE
  ]);
  // MESSAGE-INTEGRITY: HMAC-SHA1 over the message with its length covering it.
  header.writeUInt16BE(attrs.length + 24, 2);
  const mi = crypto
    .createHmac('sha1', password)
    .update(Buffer.concat([header, attrs]))
    .digest();
  attrs = Buffer.concat([attrs, stunAttr(0x0008, mi)]);
  // FINGERPRINT: CRC-32 XOR 0x5354554e over the message with its length covering it.
  header.writeUInt16BE(attrs.length + 8, 2);
  const fp = Buffer.alloc(4);
  fp.writeUInt32BE((crc32(Buffer.concat([header, attrs])) ^ 0x5354554e) >>> 0, 0);
  return Buffer.concat([header, attrs, stunAttr(0x8028, fp)]);
}

// ---- the test ---------------------------------------------------------------------
/** libsrtp's version and crypto backend, from the description strings of its AES cipher. */
function srtpBackend(bin) {
  const look = (file) => {
    const text = fs.readFileSync(file).toString('latin1');
    const version = /libsrtp[23]? ?(\d+\.\d+\.\d+[\w.-]*)/.exec(text)?.[1];
    let backend = null;
    if (text.includes('counter mode using openssl')) backend = 'OpenSSL';
    else if (text.includes('counter mode using NSS')) backend = 'NSS';
    else if (text.includes('counter mode using mbedtls')) backend = 'mbedtls';
    else if (text.includes('AES-128 integer counter mode')) backend = 'built-in AES (no GCM)';
    return { version, backend };
  };
  const own = look(bin);
  if (own.backend) return { ...own, where: 'linked statically' };
  let lib = null;
  try {
    const ldd = execFileSync('ldd', [bin], { encoding: 'utf8' });
    lib = /libsrtp\S*\.so\S*\s+=>\s+(\S+)/.exec(ldd)?.[1] ?? null;
  } catch {}
  if (!lib) return { version: own.version, backend: null, where: 'not found' };
  return { ...look(lib), where: lib };
}

async function main() {
  console.log(
    `mediasoup ${mediasoup.version}, node ${process.version}, worker ${mediasoup.workerBin ?? '(default path)'}`,
  );
  if (mediasoup.workerBin && fs.existsSync(mediasoup.workerBin)) {
    const srtp = srtpBackend(mediasoup.workerBin);
    console.log(
      `libsrtp ${srtp.version ?? '(version unknown)'}, crypto backend ${srtp.backend ?? 'unknown'} (${srtp.where})`,
    );
    if (process.env.MOIM_SMOKE_REQUIRE_OPENSSL_SRTP === '1')
      check('libsrtp uses OpenSSL', srtp.backend === 'OpenSSL', srtp.backend ?? 'unknown');
  }

  const worker = await mediasoup.createWorker({ logLevel: 'warn' });
  let workerDied = false;
  worker.on('died', (error) => {
    workerDied = true;
    console.error(`worker died: ${error}`);
  });
  check('worker started', worker.pid > 0, `pid ${worker.pid}`);

  const router = await worker.createRouter({ mediaCodecs });
  check(
    'router with opus + VP8',
    router.rtpCapabilities.codecs.some((c) => c.mimeType === 'audio/opus') &&
      router.rtpCapabilities.codecs.some((c) => c.mimeType === 'video/VP8'),
  );

  // 1. WebRtcTransport.
  const webRtcTransport = await router.createWebRtcTransport({
    listenInfos: [
      { protocol: 'udp', ip: IP },
      { protocol: 'tcp', ip: IP },
    ],
  });
  check(
    'WebRtcTransport on 127.0.0.1 (udp+tcp)',
    webRtcTransport.iceCandidates.length === 2 &&
      webRtcTransport.iceCandidates.every((c) => c.address === IP) &&
      webRtcTransport.dtlsParameters.fingerprints.length > 0,
    webRtcTransport.iceCandidates.map((c) => `${c.protocol}:${c.port}`).join(' '),
  );

  // 2. Plain RTP in and out.
  const inTransport = await router.createPlainTransport({
    listenInfo: { protocol: 'udp', ip: IP },
    rtcpMux: true,
    comedia: true,
  });
  const videoProducer = await inTransport.produce({
    kind: 'video',
    rtpParameters: {
      codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }],
      encodings: [{ ssrc: 1111 }],
    },
  });
  const audioProducer = await inTransport.produce({
    kind: 'audio',
    rtpParameters: {
      codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }],
      encodings: [{ ssrc: 2222 }],
    },
  });

  const receiver = await bindUdp();
  const received = new Map();
  receiver.on('message', (msg) => {
    if (msg.length < 12 || ((msg[1] & 0x7f) >= 64 && (msg[1] & 0x7f) < 96)) return; // RTCP
    const ssrc = msg.readUInt32BE(8);
    received.set(ssrc, (received.get(ssrc) ?? 0) + 1);
  });
  const outTransport = await router.createPlainTransport({
    listenInfo: { protocol: 'udp', ip: IP },
    rtcpMux: true,
    comedia: false,
  });
  await outTransport.connect({ ip: IP, port: receiver.address().port });
  const videoConsumer = await outTransport.consume({
    producerId: videoProducer.id,
    rtpCapabilities: router.rtpCapabilities,
  });
  const audioConsumer = await outTransport.consume({
    producerId: audioProducer.id,
    rtpCapabilities: router.rtpCapabilities,
  });

  // 3. SRTP loopback per crypto suite: consumer (encrypts) -> producer (decrypts).
  const suites = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', 'AEAD_AES_128_GCM', 'AEAD_AES_256_GCM'];
  const loops = [];
  for (const srtpCryptoSuite of suites) {
    const common = { listenInfo: { protocol: 'udp', ip: IP }, rtcpMux: true, enableSrtp: true, srtpCryptoSuite };
    const sendT = await router.createPlainTransport({ ...common, comedia: false });
    const recvT = await router.createPlainTransport({ ...common, comedia: true });
    await recvT.connect({ srtpParameters: sendT.srtpParameters });
    await sendT.connect({ ip: IP, port: recvT.tuple.localPort, srtpParameters: recvT.srtpParameters });
    const consumer = await sendT.consume({ producerId: videoProducer.id, rtpCapabilities: router.rtpCapabilities });
    const producer = await recvT.produce({ kind: 'video', rtpParameters: consumer.rtpParameters });
    loops.push({ srtpCryptoSuite, consumer, producer });
  }

  const sender = await bindUdp();
  const stopSending = startRtpSender(sender, inTransport.tuple.localPort, { vp8Ssrc: 1111, opusSsrc: 2222 });
  await sleep(2500);
  stopSending();
  await sleep(300);

  const vIn = await statsOf(videoProducer, 'inbound-rtp');
  const aIn = await statsOf(audioProducer, 'inbound-rtp');
  check('VP8 RTP into PlainTransport producer', vIn.packetCount > 50, `${vIn.packetCount} packets`);
  check('opus RTP into PlainTransport producer', aIn.packetCount > 50, `${aIn.packetCount} packets`);
  const vOut = await statsOf(videoConsumer, 'outbound-rtp');
  const aOut = await statsOf(audioConsumer, 'outbound-rtp');
  const vSsrc = videoConsumer.rtpParameters.encodings[0].ssrc;
  const aSsrc = audioConsumer.rtpParameters.encodings[0].ssrc;
  check(
    'VP8 consumer sends RTP',
    vOut.packetCount > 50 && (received.get(vSsrc) ?? 0) > 50,
    `stats ${vOut.packetCount}, received ${received.get(vSsrc) ?? 0}`,
  );
  check(
    'opus consumer sends RTP',
    aOut.packetCount > 50 && (received.get(aSsrc) ?? 0) > 50,
    `stats ${aOut.packetCount}, received ${received.get(aSsrc) ?? 0}`,
  );
  for (const { srtpCryptoSuite, consumer, producer } of loops) {
    const out = await statsOf(consumer, 'outbound-rtp');
    const back = await statsOf(producer, 'inbound-rtp');
    check(
      `SRTP ${srtpCryptoSuite}: encrypted by a consumer, decrypted by a producer`,
      out.packetCount > 50 && back.packetCount > 0.9 * out.packetCount,
      `${out.packetCount} sent, ${back.packetCount} decrypted`,
    );
  }
  sender.close();
  receiver.close();

  // 4. ICE + DTLS handshake with openssl s_client through a UDP relay.
  await dtlsCheck(router, () => workerDied);

  check('worker still alive', !workerDied && !worker.closed);
  worker.close();
}

async function dtlsCheck(router, workerDied) {
  let opensslOk = false;
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    opensslOk = true;
  } catch {}
  if (!opensslOk) {
    skip('DTLS handshake', 'no openssl CLI');
    return;
  }

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ms-smoke-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=moim-smoke',
    ],
    { stdio: 'ignore' },
  );
  const fingerprint = new crypto.X509Certificate(fs.readFileSync(cert)).fingerprint256;

  const transport = await router.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: IP }] });
  const candidate = transport.iceCandidates[0];
  let iceState = transport.iceState;
  let dtlsState = transport.dtlsState;
  transport.on('icestatechange', (s) => (iceState = s));
  transport.on('dtlsstatechange', (s) => (dtlsState = s));
  await transport.connect({
    dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: fingerprint }] },
  });

  // iceSocket talks to mediasoup (STUN, then relayed DTLS); relay faces s_client.
  const iceSocket = await bindUdp();
  const relay = await bindUdp();
  let clientAddr;
  let stunOk = false;
  iceSocket.on('message', (msg) => {
    if (msg[0] < 2) {
      if (msg.readUInt16BE(0) === 0x0101) stunOk = true; // Binding success response
    } else if (clientAddr) {
      relay.send(msg, clientAddr.port, clientAddr.address);
    }
  });
  relay.on('message', (msg, rinfo) => {
    clientAddr = rinfo;
    iceSocket.send(msg, candidate.port, candidate.ip ?? candidate.address);
  });

  const { usernameFragment, password } = transport.iceParameters;
  iceSocket.send(
    stunBindingRequest({ username: `${usernameFragment}:smoke`, password }),
    candidate.port,
    candidate.address,
  );
  for (let i = 0; i < 20 && !stunOk; i++) await sleep(50);
  check('ICE binding request answered', stunOk, `iceState ${iceState}`);

  const client = spawn(
    'openssl',
    [
      's_client',
      '-dtls1_2',
      '-connect',
      `${IP}:${relay.address().port}`,
      '-cert',
      cert,
      '-key',
      key,
      '-use_srtp',
      'SRTP_AES128_CM_SHA1_80',
      '-quiet',
    ],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  let clientErr = '';
  client.stderr.on('data', (d) => (clientErr += d));
  client.on('error', () => {});
  for (let i = 0; i < 100 && dtlsState !== 'connected' && dtlsState !== 'failed' && !workerDied(); i++) await sleep(50);
  await sleep(200);
  client.kill();
  iceSocket.close();
  relay.close();
  fs.rmSync(dir, { recursive: true, force: true });

  check(
    'DTLS 1.2 handshake (openssl s_client) -> dtlsState connected',
    dtlsState === 'connected' && !workerDied(),
    `dtlsState ${dtlsState}${workerDied() ? ', WORKER DIED' : ''}`,
  );
  if (dtlsState !== 'connected') console.log(clientErr.split('\n').slice(-10).join('\n'));
  transport.close();
}

const guard = setTimeout(() => {
  console.error('smoke test timed out');
  process.exit(1);
}, 60_000);

main()
  .then(() => {
    clearTimeout(guard);
    console.log(`${results.length - failed} passed, ${failed} failed`);
    process.exit(failed === 0 ? 0 : 1);
  })
  .catch((error) => {
    clearTimeout(guard);
    console.error(error);
    console.log(`${results.length - failed} passed, ${failed + 1} failed`);
    process.exit(1);
  });
