import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.ts';
import { ManualClock, Scheduler } from './Scheduler.ts';

const log = createLogger('silent', 'test');

describe('Scheduler', () => {
  it('runs jobs at the clock’s time when asked, one run of a job at a time', async () => {
    const clock = new ManualClock(1_000);
    const scheduler = new Scheduler({ clock, log });
    const seen: number[] = [];
    let running = 0;
    let most = 0;
    scheduler.add({
      name: 'count',
      everyMs: 60_000,
      run: async (now) => {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        seen.push(now);
        return 1;
      },
    });
    expect(await scheduler.runDue()).toBe(1);
    clock.advance(500);
    // two runs asked at once: the second waits for the first
    expect(await Promise.all([scheduler.runDue('count'), scheduler.runDue('count')])).toEqual([1, 1]);
    expect(seen).toEqual([1_000, 1_500, 1_500]);
    expect(most).toBe(1);
    await expect(scheduler.runDue('nope')).rejects.toThrow(/no job nope/);
    expect(() => scheduler.add({ name: 'count', everyMs: 1, run: async () => 0 })).toThrow(/twice/);
  });

  it('a failing run fails its caller and leaves the job runnable', async () => {
    const scheduler = new Scheduler({ clock: new ManualClock(), log });
    let fail = true;
    scheduler.add({
      name: 'flaky',
      everyMs: 60_000,
      run: async () => {
        if (fail) throw new Error('store away');
        return 2;
      },
    });
    await expect(scheduler.runDue('flaky')).rejects.toThrow('store away');
    fail = false;
    expect(await scheduler.runDue('flaky')).toBe(2);
  });

  it('runs on real time once started, and not after stop', async () => {
    const scheduler = new Scheduler({ clock: new ManualClock(), log });
    let runs = 0;
    scheduler.add({ name: 'tick', everyMs: 10, run: async () => ++runs && 0 });
    scheduler.start();
    await new Promise((r) => setTimeout(r, 60));
    scheduler.stop();
    const after = runs;
    expect(after).toBeGreaterThan(1);
    await new Promise((r) => setTimeout(r, 40));
    expect(runs).toBe(after);
  });
});
