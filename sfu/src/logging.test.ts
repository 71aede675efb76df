import { describe, expect, it } from 'vitest';
import { type SfuLogger, WarningDigest } from './logging.ts';

function recorder() {
  const lines: Array<{ level: string; obj: object; msg?: string | undefined }> = [];
  const log: SfuLogger = {
    debug: (obj, msg) => lines.push({ level: 'debug', obj, msg }),
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
    child: () => log,
  };
  return { log, lines };
}

describe('mediasoup worker warnings', () => {
  it('sums up the per-packet warnings of normal operation once a minute, each at debug; others stay warnings', () => {
    const { log, lines } = recorder();
    let now = 0;
    const digest = new WarningDigest(log, { now: () => now });
    const ns = 'mediasoup:WARN:Channel';
    for (let i = 0; i < 150; i++)
      expect(
        digest.take(ns, '[pid:1] RTC::Transport::ReceiveRtpPacket() | no stream found for received packet [ssrc:1234]'),
      ).toBe(true);
    for (let i = 0; i < 75; i++)
      expect(
        digest.take(ns, '[pid:1] RTC::SrtpSession::EncryptRtp() | srtp_protect() failed: replay check failed'),
      ).toBe(true);
    expect(
      digest.take(ns, 'RTC::Transport::ReceiveRtpPacket() | no suitable Producer for received RTP packet [ssrc:1]'),
    ).toBe(true);
    expect(digest.take(ns, 'RTC::WebRtcTransport::OnIceServerTupleAdded() | something else')).toBe(false);
    expect(lines.filter((l) => l.level !== 'debug')).toEqual([]);
    now = 61_000;
    digest.flushIfDue();
    const infos = lines.filter((l) => l.level === 'info');
    expect(infos.map((l) => l.obj)).toEqual([
      { warning: 'unknown-rtx', count: 150, seconds: 61 },
      { warning: 'early-rtp', count: 1, seconds: 61 },
      { warning: 'srtp-replay', count: 75, seconds: 61 },
    ]);
    // a quiet minute says nothing
    now = 130_000;
    digest.flushIfDue();
    expect(lines.filter((l) => l.level === 'info')).toHaveLength(3);
    // the totals stay (for /metrics), every cause listed
    expect(digest.totals()).toEqual({
      'unknown-rtx': 150,
      'early-rtp': 1,
      'srtp-replay': 75,
      'probe-late': 0,
      'bwe-drop': 0,
      'inactive-stream': 0,
    });
  });

  it('knows the warnings a browser meeting shows, as the worker words them', () => {
    const { log } = recorder();
    const digest = new WarningDigest(log);
    const ns = 'mediasoup:WARN:Channel';
    for (const line of [
      '[pid:1] RTC::Producer::ReceiveRtpPacket() | no stream found for received packet [ssrc:2423405338]',
      '[pid:1] RTC::Transport::ReceiveRtpPacket() | no suitable Producer for received RTP packet [ssrc:3106532767, payloadType:111]',
      '[pid:1] RTC::SrtpSession::EncryptRtp() | srtp_protect() failed: replay check failed (index too old)',
      '[pid:1] webrtc::BitrateProber::TimeUntilNextProbe() | probe delay too high [next_ms:768940, now_ms:768953]',
      '[pid:1] RTC::TransportCongestionControlClient::MayEmitAvailableBitrateEvent() | high BWE value decrease detected, notifying the listener [now:768864, before:2025000]',
      '[pid:1] RTC::RTP::RtpStreamRecv::OnTimer() | RTP inactivity detected, resetting score to 0 [ssrc:4188556384]',
    ])
      expect(digest.take(ns, line), line).toBe(true);
    expect(Object.values(digest.totals())).toEqual([1, 1, 1, 1, 1, 1]);
  });
});
