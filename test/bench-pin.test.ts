/**
 * The benchmarks' core pinning (bench/lib/pin.ts) and per-thread CPU (bench/lib/proc.ts), on real
 * processes: a harness that pins runs on the load cores, the servers it starts on core 0.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatThreads, threadCores, threadCpu } from '../bench/lib/proc.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

/** The CPU list a process may run on (`taskset -pc`): "0", "1", "0,1"… */
function cpuList(pid: number): string {
  const out = execFileSync('taskset', ['-pc', String(pid)], { encoding: 'utf8' });
  return out.slice(out.lastIndexOf(':') + 1).trim();
}

describe('bench core pinning', () => {
  it.skipIf(availableParallelism() < 2)(
    'pins the harness to the load cores and the servers it spawns (and their threads) to core 0',
    () => {
      // in a child process: pinning moves the calling process, which must not be the test runner
      const script = `
        import { spawn } from 'node:child_process';
        import { onServerCore, pinCores } from './bench/lib/pin.ts';
        const cores = pinCores(true);
        const [cmd, args] = onServerCore(process.execPath, ['-e', 'setTimeout(() => {}, 5000)']);
        const child = spawn(cmd, args, { stdio: 'ignore' });
        await new Promise((r) => setTimeout(r, 300));
        console.log(JSON.stringify({ cores, self: process.pid, child: child.pid }));
        const { execFileSync } = await import('node:child_process');
        const list = (pid) => { const o = execFileSync('taskset', ['-pc', String(pid)], { encoding: 'utf8' }); return o.slice(o.lastIndexOf(':') + 1).trim(); };
        const threads = (await import('node:fs')).readdirSync('/proc/' + child.pid + '/task').map(list);
        console.log(JSON.stringify({ self: list(process.pid), child: list(child.pid), threads }));
        child.kill();
      `;
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        cwd: ROOT,
        encoding: 'utf8',
      })
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const load = availableParallelism() === 2 ? '1' : `1-${availableParallelism() - 1}`;
      expect(out[0].cores).toEqual({ server: '0', load });
      expect(out[1].self).toBe(load);
      // taskset execs node: the pid spawn() returned is the server's, on core 0 with every thread
      expect(out[1].child).toBe('0');
      expect(out[1].threads.length).toBeGreaterThan(1);
      for (const t of out[1].threads) expect(t).toBe('0');
    },
  );

  it('leaves everything where it was when off', () => {
    const script = `
      import { execFileSync } from 'node:child_process';
      import { onServerCore, pinCores, pinnedCores } from './bench/lib/pin.ts';
      const cores = pinCores(false) ?? null;
      const o = execFileSync('taskset', ['-pc', String(process.pid)], { encoding: 'utf8' });
      console.log(JSON.stringify({ cores, after: pinnedCores() ?? null, cmd: onServerCore('/bin/node', ['a']), self: o.slice(o.lastIndexOf(':') + 1).trim() }));
    `;
    const out = JSON.parse(
      execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' }),
    );
    // not moved: the cores it inherited from this test process
    expect(out).toEqual({ cores: null, after: null, cmd: ['/bin/node', ['a']], self: cpuList(process.pid) });
  });
});

describe('per-thread CPU', () => {
  it('sums a process’s CPU by thread name and reports the window in cores', () => {
    const before = threadCpu(process.pid);
    expect(Object.keys(before).length).toBeGreaterThan(0);
    const t0 = performance.now();
    while (performance.now() - t0 < 300) Math.sqrt(Math.random()); // keep this thread busy
    const after = threadCpu(process.pid);
    const cores = threadCores(before, after, (performance.now() - t0) / 1000);
    const busiest = Math.max(...Object.values(cores));
    expect(busiest).toBeGreaterThan(0.5);
    expect(formatThreads({ MainThread: 0.331, WorkerThread: 0.114 })).toBe('MainThread 33.1, WorkerThread 11.4');
    expect(threadCpu(2 ** 22 + 12345)).toEqual({}); // a process that is not there
  });
});
