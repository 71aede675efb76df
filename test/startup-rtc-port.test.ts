/**
 * A second moim on the same machine (issue 15): when the WebRTC port is taken, start-up stops
 * with one line that names the port and MOIM_RTC_PORT, exit code 2, and no stack trace.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { startServerProcess } from './support/serverProcess.ts';

const held: Socket[] = [];
afterEach(() => {
  for (const s of held.splice(0)) s.close();
});

/** Hold a UDP port on 127.0.0.1 as another program would. */
function holdUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  held.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve(socket.address().port));
  });
}

describe('start-up with a taken WebRTC port', () => {
  it('says which port is taken and names MOIM_RTC_PORT, in one line', async () => {
    const port = await holdUdpPort();
    const failure = await startServerProcess({
      MOIM_RTC_PORT: String(port),
      MOIM_RTC_LISTEN: '[{"ip":"127.0.0.1"}]',
    }).then(
      () => undefined,
      (err: Error) => err.message,
    );
    expect(failure).toBeDefined();
    expect(failure).toMatch(/^server exited with 2: /);
    const lines = failure!
      .replace(/^server exited with 2: /, '')
      .trim()
      .split('\n');
    const ours = lines.filter((l) => l.startsWith('moim: '));
    expect(ours).toEqual([
      `moim: cannot start: the WebRTC port ${port} (UDP and TCP on 127.0.0.1) is taken, by another moim or another program: set MOIM_RTC_PORT to a free port (worker i uses MOIM_RTC_PORT + i), or to 0 for any free ports`,
    ]);
    // no stack trace
    expect(lines.filter((l) => /^\s+at /.test(l))).toEqual([]);
  });
});
