import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const lastResort = path.join(import.meta.dirname, 'lastResort.ts');
const logger = path.join(import.meta.dirname, '../logger.ts');

/** Run a small program that installs the last-resort handlers, then does `body`; collect its output and exit code. */
function run(body: string): Promise<{ code: number | null; out: string }> {
  const program = `
    import { installLastResort } from ${JSON.stringify(lastResort)};
    import { createLogger } from ${JSON.stringify(logger)};
    const log = createLogger('info', 'test');
    installLastResort(log, (reason) => { console.log('STOP ' + reason); setTimeout(() => process.exit(), 50); });
    ${body}
  `;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', program], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('last-resort handlers (issue 11, item 1)', () => {
  it('an unhandled rejection is logged and the process keeps serving', async () => {
    const { code, out } = await run(`
      Promise.reject(new Error('nobody handles me'));
      setTimeout(() => { console.log('STILL ALIVE'); process.exit(0); }, 200);
    `);
    expect(out).toContain('unhandled promise rejection');
    expect(out).toContain('nobody handles me');
    expect(out).toContain('STILL ALIVE');
    expect(code).toBe(0);
  });

  it('an uncaught exception leaves through the graceful stop with exit code 1', async () => {
    const { code, out } = await run(`setTimeout(() => { throw new Error('boom'); }, 10);`);
    expect(out).toContain('uncaught exception');
    expect(out).toContain('STOP uncaughtException');
    expect(code).toBe(1);
  });
});
