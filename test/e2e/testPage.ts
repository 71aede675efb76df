/**
 * Browser-side halves of e2e tests (`*.page.ts`): bundled by vite into an IIFE that sets one global,
 * and served by the test's server at `/e2e/<name>.html` and `/e2e/<name>.js`. The page carries the
 * web app's CSP (every other answer of the server has the API's `default-src 'none'`), so a test page
 * runs under the same rules as the app.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'vite';
import type { HttpRouter } from '../../server/src/http/HttpRouter.ts';
import { APP_CSP } from '../../server/src/http/security.ts';

/** The page module `entry` (a file in test/e2e) bundled as an IIFE assigning `globalName`. */
export async function bundleTestPage(entry: string, globalName: string): Promise<string> {
  const outDir = mkdtempSync(path.join(tmpdir(), 'moim-e2e-page-'));
  try {
    await build({
      configFile: false,
      logLevel: 'warn',
      root: path.resolve(import.meta.dirname, '../..'),
      build: {
        outDir,
        emptyOutDir: true,
        minify: false,
        lib: {
          entry: path.join(import.meta.dirname, entry),
          name: globalName,
          formats: ['iife'],
          fileName: () => 'page.js',
        },
      },
    });
    return readFileSync(path.join(outDir, 'page.js'), 'utf8');
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

/** Serve a bundled page at `/e2e/<name>.html` (loading `/e2e/<name>.js`). */
export function serveTestPage(router: HttpRouter, name: string, js: string): void {
  router.add('GET', `/e2e/${name}.html`, async ({ res }) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': APP_CSP });
    res.end(
      `<!doctype html><meta charset="utf-8"><title>moim ${name} e2e</title><script src="/e2e/${name}.js"></script>`,
    );
    return undefined;
  });
  router.add('GET', `/e2e/${name}.js`, async ({ res }) => {
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
    res.end(js);
    return undefined;
  });
}
