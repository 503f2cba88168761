import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, resolve, sep } from 'node:path';
import type { Connect, Plugin } from 'vite';
import { defineConfig } from 'vite';

/**
 * `RLR_MODEL_DIR=/path/to/model npm run dev` (or `preview`) serves that saved model directory at
 * `/model/`, the page's default model URL, so a model trained with the CLI or the library can be
 * tried without copying it anywhere.
 */
function serveModelDir(): Plugin {
  const dir = process.env.RLR_MODEL_DIR ? resolve(process.env.RLR_MODEL_DIR) : undefined;
  const middleware: Connect.NextHandleFunction = (req, res, next) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!dir || !url.pathname.startsWith('/model/')) return next();
    const file = resolve(dir, decodeURIComponent(url.pathname.slice('/model/'.length)));
    if (!(file === dir || file.startsWith(dir + sep)) || !existsSync(file) || !statSync(file).isFile()) {
      res.statusCode = 404;
      res.end(`not found in ${dir}`);
      return;
    }
    const types: Record<string, string> = { '.json': 'application/json' };
    res.setHeader('content-type', types[extname(file)] ?? 'application/octet-stream');
    createReadStream(file).pipe(res);
  };
  return {
    name: 'rlr-serve-model-dir',
    configureServer(server) {
      server.middlewares.use(middleware);
    },
    configurePreviewServer(server) {
      server.middlewares.use(middleware);
    },
  };
}

export default defineConfig({
  // Relative asset URLs: the built page works from any folder of any static server.
  base: './',
  build: {
    target: 'es2022',
    outDir: 'dist',
    // tfjs is large; a single chunk is expected and fine for a demo page.
    chunkSizeWarningLimit: 4000,
  },
  plugins: [serveModelDir()],
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
