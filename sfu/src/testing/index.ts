/**
 * `@moim/sfu/testing`: tools for tests and benchmarks that push plain RTP through real workers
 * (a generator, a sink, RTP parameters to match) and `waitFor`. Not part of the shipped entry
 * point `@moim/sfu`.
 */
export { type AudioStreamOptions, RtpGenerator, RtpSink, type VideoStreamOptions } from './RtpGenerator.ts';
export {
  AUDIO_LEVEL_URI,
  opusRtpParameters,
  plainRecvCapabilities,
  vp8RtpParameters,
  waitFor,
} from './rtpParameters.ts';
