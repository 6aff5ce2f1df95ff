import { defineConfig, type Plugin } from 'vite';

/**
 * The app reads its runtime settings from `/config.json` (written by the local stack or the CDK web-hosting
 * construct). `vite dev` has neither, so it serves the local stack's defaults.
 */
const localConfig: Plugin = {
  name: 'chatstack-local-config',
  configureServer(server) {
    server.middlewares.use('/config.json', (_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          apiBaseUrl: process.env.CHATSTACK_API_URL ?? 'http://127.0.0.1:3000',
          issuer: process.env.CHATSTACK_ISSUER ?? 'http://127.0.0.1:3001',
          clientId: 'chatstack-web',
          scopes: 'openid chat:read chat:write offline_access',
          redirectUri: 'http://127.0.0.1:5173/callback',
        }),
      );
    });
  },
};

export default defineConfig({
  root: import.meta.dirname,
  plugins: [localConfig],
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  server: { host: '127.0.0.1', port: 5173, strictPort: true },
  preview: { host: '127.0.0.1', port: 5173, strictPort: true },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
  },
});
