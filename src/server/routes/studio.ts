import fastifyStatic from '@fastify/static';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyReply } from 'fastify';
import type { RoutePlugin } from '../create-server.js';
import { studioHistoryRoutes } from './studio-history.js';

/** Where the studio's files are; both default to the checkout (or installed package) this module belongs to. */
export interface StudioOptions {
  /** The page, styles and other files served as they are; default `<package>/web/public`. */
  publicDir?: string;
  /** What `tsc -p web/tsconfig.json` wrote (`js/main.js`, …); default `<package>/dist/web`. */
  buildDir?: string;
}

// src/server/routes and dist/server/routes are both three levels below the package root.
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

// The studio only talks to its own origin and shows images it got as data URLs or from /images/.
const contentSecurityPolicy = [
  "default-src 'self'",
  "img-src 'self' data: blob:",
  "style-src 'self'",
  "script-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The web studio at `/`: static files with no API key (the page asks for one and sends it on its own `/v1` calls).
 * Files are listed once at start-up (`wildcard: false`), so unknown paths keep the server's OpenAI-shaped 404. When
 * the scripts were never built the page still loads and a warning names the fix. The studio's history API
 * (`/v1/studio/…`, behind the same auth as the rest of `/v1`) comes with it.
 */
export function studioRoutes(options: StudioOptions = {}): RoutePlugin {
  const publicDir = options.publicDir ?? join(packageRoot, 'web', 'public');
  const buildDir = options.buildDir ?? join(packageRoot, 'dist', 'web');
  return async (app, deps) => {
    await studioHistoryRoutes(app, deps);
    if (!existsSync(join(buildDir, 'js', 'main.js'))) {
      app.log.warn(`the web studio's scripts are not built in ${buildDir}: run \`npm run build\``);
    }
    await app.register(fastifyStatic, {
      root: [publicDir, buildDir].filter((dir) => existsSync(dir)),
      prefix: '/',
      wildcard: false,
      dotfiles: 'ignore',
      setHeaders: (reply: FastifyReply, path: string) => {
        if (path.endsWith('.html')) void reply.header('content-security-policy', contentSecurityPolicy);
      },
    });
  };
}
