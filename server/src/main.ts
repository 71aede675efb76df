/**
 * Process entry point (`npm start`): the only place that reads process.env. It reads the
 * configuration, turns V8's compile cache on (MOIM_COMPILE_CACHE) before moim's own modules load —
 * so it covers them — then loads and runs the server (serve.ts).
 */
import { constants, enableCompileCache } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { type Config, loadConfig } from './config.ts';
import { refuse, startupProblem } from './startup.ts';
import { makeDirs } from './storage/DataDir.ts';
import { describeFsError } from './storage/storageErrors.ts';

/**
 * The compile cache's folder, made first with moim's own `makeDirs` (Node's recursive mkdir, which
 * enableCompileCache uses, loops forever under /proc), or why it cannot be: the server then starts
 * without the cache and says so (a bad data folder is refused later, by the app, with its reason).
 */
function compileCacheDir(config: Config): { dir?: string; problem?: string } {
  if (config.compileCache === 'off') return {};
  const dir = path.resolve(
    config.compileCache === 'on' ? path.join(config.dataDir, 'compile-cache') : config.compileCache,
  );
  try {
    makeDirs(dir);
    return { dir };
  } catch (err) {
    return { problem: `${dir}: ${describeFsError(err)}` };
  }
}

let config: Config;
try {
  config = loadConfig(process.env, { cpus: availableParallelism() });
} catch (err) {
  const line = startupProblem(err);
  if (line !== undefined) refuse(line);
  console.error('moim: failed to start:', err);
  process.exit(1);
}
// the cache of the code loaded from here on; serve.ts writes it once the server is ready
const { dir, problem } = compileCacheDir(config);
const compileCache =
  dir !== undefined
    ? enableCompileCache(dir)
    : problem !== undefined
      ? { status: constants.compileCacheStatus.FAILED, message: problem }
      : undefined;
const { serve } = await import('./serve.ts');
serve(config, compileCache).catch((err: unknown) => {
  console.error('moim: failed to start:', err);
  process.exit(1);
});
