/**
 * Serves the built web app (`web/dist`) and its runtime `config.json`, as S3 + CloudFront do in the cloud:
 * static files, and `index.html` for app routes so a reload keeps the URL.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
};

/** The same security headers the CloudFront response headers policy sets. */
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'strict-origin-when-cross-origin',
};

export interface WebServerOptions {
  readonly host: string;
  readonly port: number;
  readonly distDir: string;
  /** Served as `/config.json`. */
  readonly runtimeConfig: Record<string, unknown>;
}

export async function startWebServer(
  options: WebServerOptions,
): Promise<{ url: string; close(): Promise<void> }> {
  const root = resolve(options.distDir);
  const configBody = JSON.stringify(options.runtimeConfig);
  const server: Server = createServer(async (req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://local').pathname);
    if (pathname === '/config.json') {
      res.writeHead(200, {
        'content-type': 'application/json',
        'cache-control': 'no-store',
        ...SECURITY_HEADERS,
      });
      res.end(configBody);
      return;
    }
    const file = normalize(join(root, pathname));
    const candidates = file.startsWith(root) && extname(file) ? [file] : [];
    candidates.push(join(root, 'index.html'));
    for (const candidate of candidates) {
      try {
        const body = await readFile(candidate);
        res.writeHead(200, {
          'content-type': TYPES[extname(candidate)] ?? 'application/octet-stream',
          'cache-control': candidate.endsWith('index.html')
            ? 'no-cache'
            : 'public, max-age=31536000, immutable',
          ...SECURITY_HEADERS,
          // Shared conversations (`/s/<id>`) are not for search engines.
          ...(pathname.startsWith('/s/') ? { 'x-robots-tag': 'noindex, nofollow' } : {}),
        });
        res.end(body);
        return;
      } catch {
        // try the next candidate
      }
    }
    res.writeHead(404, { 'content-type': 'text/plain', ...SECURITY_HEADERS });
    res.end('Not found');
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port, options.host, () => done());
  });
  return {
    url: `http://${options.host}:${options.port}`,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
