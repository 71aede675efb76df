import { defineConfig } from 'vite';

/**
 * The web app is built to static files in `dist/`, which the server serves at `/`.
 * `npm run dev -w @moim/web-demo` serves it with hot reload and forwards the API to a server on
 * MOIM_DEV_BACKEND (default http://127.0.0.1:3000).
 */
const backend = process.env.MOIM_DEV_BACKEND ?? 'http://127.0.0.1:3000';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      '/socket.io': { target: backend, ws: true },
      '/yjs': { target: backend, ws: true },
      '/auth': backend,
      '/docs': backend,
      '/chat': backend,
      '/healthz': backend,
    },
  },
});
