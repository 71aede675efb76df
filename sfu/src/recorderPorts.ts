/**
 * The UDP ports recording ffmpeg processes listen on: pairs (RTP on an even port, RTCP on the next)
 * from one configured range, handed out once and given back when a segment ends. A pair some
 * other process holds is skipped (both ports are bound briefly to check).
 */
import { createSocket } from 'node:dgram';
import { SfuError } from './errors.ts';

export class RecorderPorts {
  readonly min: number;
  readonly max: number;
  readonly #ip: string;
  readonly #taken = new Set<number>();
  #next: number;

  constructor(range: { min: number; max: number }, ip = '127.0.0.1') {
    this.min = range.min % 2 === 0 ? range.min : range.min + 1;
    this.max = range.max;
    if (this.max - this.min < 1) throw new Error('the recording port range needs at least one pair');
    this.#ip = ip;
    this.#next = this.min;
  }

  /** Pairs handed out and not given back (tests check nothing leaks). */
  get inUse(): number[] {
    return [...this.#taken].sort((a, b) => a - b);
  }

  /** An even port `p` (p and p + 1 free); TOO_MANY_TRANSPORTS when every pair of the range is busy. */
  async take(): Promise<number> {
    const pairs = Math.floor((this.max - this.min + 1) / 2);
    for (let i = 0; i < pairs; i++) {
      const p = this.#next;
      this.#next = p + 2 > this.max - 1 ? this.min : p + 2;
      if (this.#taken.has(p)) continue;
      this.#taken.add(p);
      if ((await free(this.#ip, p)) && (await free(this.#ip, p + 1))) return p;
      this.#taken.delete(p);
    }
    throw new SfuError('TOO_MANY_TRANSPORTS', `no free port pair in the recording range ${this.min}-${this.max}`);
  }

  release(port: number): void {
    this.#taken.delete(port);
  }
}

function free(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket(ip.includes(':') ? 'udp6' : 'udp4');
    // a bind error is the answer (the port is busy), not a failure
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind({ address: ip, port, exclusive: true }, () => socket.close(() => resolve(true)));
  });
}
