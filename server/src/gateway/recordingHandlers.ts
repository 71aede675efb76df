import type { Recordings } from '../recording/Recordings.ts';
import type { HandlerTable } from './Gateway.ts';

/**
 * Recording requests. They join the media handlers' table (wireMedia), so in a cluster they are
 * relayed to the room's home node, where its SFU room and recorders run.
 */
export function recordingHandlers(recordings: Recordings): HandlerTable {
  return {
    'room:startRecording': (d, c) => recordings.start(c.principal, d),
    'room:stopRecording': (d, c) => recordings.stop(c.principal, d),
    'room:recordings': (d, c) => recordings.list(c.principal, d),
  };
}
