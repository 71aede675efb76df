/**
 * Process entry point (`npm start`): the only place that reads process.env. It reads the
 * configuration, turns V8's compile cache on (MOIM_COMPILE_CACHE) before moim's own modules load —
 * so it covers them — then loads and runs the server (serve.ts).
 */
import { enableCompileCache } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { type Config, loadConfig } from './config.ts';
import { refuse, startupProblem } from './startup.ts';

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
const cacheDir =
  config.compileCache === 'off'
    ? undefined
    : path.resolve(config.compileCache === 'on' ? path.join(config.dataDir, 'compile-cache') : config.compileCache);
const compileCache = cacheDir === undefined ? undefined : enableCompileCache(cacheDir);
const { serve } = await import('./serve.ts');
serve(config, compileCache).catch((err: unknown) => {
  console.error('moim: failed to start:', err);
  process.exit(1);
});
