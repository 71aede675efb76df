/**
 * The telework scheduler: periodic jobs (no-show release, automatic check-out, escalation,
 * reminders) run inside the server against one injectable `Clock`, so tests move time instead of
 * waiting for it (`ManualClock.advance`, then `runDue`). Each job is idempotent — it decides from
 * stored state and `now`, with conditional updates — so a run that overlaps another node's run
 * (cluster mode) or repeats after a crash changes nothing twice. A job never overlaps itself on
 * one node, and a failing run is logged with the job's name and retried on the next tick.
 */
import type { Logger } from '../logger.ts';

/** Wall-clock time in ms since the epoch (UTC). */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to (tests). */
export class ManualClock implements Clock {
  #t: number;
  constructor(start: number = Date.now()) {
    this.#t = start;
  }
  now(): number {
    return this.#t;
  }
  set(t: number): void {
    this.#t = t;
  }
  advance(ms: number): number {
    this.#t += ms;
    return this.#t;
  }
}

export interface Job {
  /** Unique name, used in logs and metrics. */
  name: string;
  /** How often the job runs on real time. */
  everyMs: number;
  /** Do the job's work as of `now`; resolves with how many records it changed. */
  run(now: number): Promise<number>;
}

export class Scheduler {
  readonly clock: Clock;
  readonly #log: Logger;
  readonly #jobs = new Map<string, { job: Job; running: Promise<number> | undefined }>();
  readonly #timers: NodeJS.Timeout[] = [];
  #started = false;

  constructor(opts: { clock: Clock; log: Logger }) {
    this.clock = opts.clock;
    this.#log = opts.log;
  }

  add(job: Job): void {
    if (this.#jobs.has(job.name)) throw new Error(`job ${job.name} added twice`);
    this.#jobs.set(job.name, { job, running: undefined });
    if (this.#started) this.#arm(job.name, job.everyMs);
  }

  /** Run every job on real time from now on. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    for (const { job } of this.#jobs.values()) this.#arm(job.name, job.everyMs);
  }

  /** Run one job (or every job) once now, waiting for a run already under way first; resolves with the records changed. */
  async runDue(name?: string): Promise<number> {
    let changed = 0;
    for (const [jobName] of this.#jobs) if (name === undefined || name === jobName) changed += await this.#run(jobName);
    if (name !== undefined && !this.#jobs.has(name)) throw new Error(`no job ${name}`);
    return changed;
  }

  stop(): void {
    for (const t of this.#timers) clearInterval(t);
    this.#timers.length = 0;
    this.#started = false;
  }

  #arm(name: string, everyMs: number): void {
    const timer = setInterval(() => {
      const entry = this.#jobs.get(name);
      if (!entry || entry.running) return; // a slow run is not stacked
      this.#run(name).catch((err: unknown) => this.#log.error({ err, job: name }, 'scheduled job failed'));
    }, everyMs);
    timer.unref();
    this.#timers.push(timer);
  }

  async #run(name: string): Promise<number> {
    const entry = this.#jobs.get(name);
    if (!entry) return 0;
    // the running one reports its own failure to its caller
    while (entry.running) await Promise.allSettled([entry.running]);
    const running = entry.job.run(this.clock.now());
    entry.running = running;
    try {
      const changed = await running;
      if (changed > 0) this.#log.info({ job: name, changed }, 'scheduled job changed records');
      return changed;
    } finally {
      entry.running = undefined;
    }
  }
}
