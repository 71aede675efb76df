import { waitFor } from '@moim/sfu/testing';
import { afterEach, describe, expect, test } from 'vitest';
import {
  consumerBytes,
  createRoom,
  mediaPeer,
  publishPlain,
  subscribePlain,
} from '../server/src/media/testing/testPeers.ts';
import { startTestServer, type TestServer } from '../server/src/testing/index.ts';

let server: TestServer | undefined;
const stops: Array<() => void> = [];

afterEach(async () => {
  for (const s of stops.splice(0)) s();
  await server?.close();
  server = undefined;
});

describe('a mediasoup worker dies', () => {
  test('it is replaced, its rooms report WORKER_DIED, and the next join re-creates the room', async () => {
    server = await startTestServer({ MOIM_SFU_ALLOW_PLAIN: 'true', MOIM_SFU_WORKERS: '1' });
    const srv = server;
    const alice = await mediaPeer(srv, { name: 'Alice' });
    const bob = await mediaPeer(srv, { name: 'Bob' });
    const { roomId } = await createRoom(alice);
    await alice.join(roomId);
    await bob.join(roomId);
    const pool = srv.app.media.pool;
    const [worker] = pool.workers();
    const replaced = new Promise<{ pid: number }>((resolve) => pool.once('workerReplaced', resolve));
    process.kill(worker!.worker.pid, 'SIGKILL');
    for (const p of [alice, bob]) {
      await p.waitEvent(
        'room:closed',
        (e: { roomId: string; reason: string }) => e.roomId === roomId && e.reason === 'WORKER_DIED',
      );
    }
    const { pid } = await replaced;
    expect(pid).not.toBe(worker!.worker.pid);
    expect(pool.deaths).toBe(1);

    // rejoin (what the client SDK does on WORKER_DIED): the room is re-created on the live worker
    const aj = await alice.join(roomId);
    expect(aj.resumed).toBe(false);
    expect(aj.peers).toHaveLength(0);
    const bj = await bob.join(roomId);
    expect(bj.peers).toHaveLength(1);
    const pub = await publishPlain(alice, roomId, { video: [3131] });
    stops.push(() => pub.gen.close());
    const sub = await subscribePlain(bob, roomId, bj.routerRtpCapabilities);
    stops.push(() => sub.sink.close());
    const c = await waitFor(() => bob.consumers.find((x) => x.producerId === pub.video), { what: 'consumer' });
    await waitFor(async () => (await consumerBytes(bob, roomId, c.consumerId)) > 5000, { what: 'bytes' });

    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    expect(metrics).toMatch(/moim_sfu_worker_deaths_total\{[^}]*\} 1/);
    expect(metrics).toMatch(/moim_sfu_worker_cpu_seconds\{[^}]*worker="0"/);
    expect(metrics).toMatch(/moim_sfu_rooms\{[^}]*\} 1/);
  });
});
