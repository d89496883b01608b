/**
 * The web studio as a user gets it: the real `atelier serve` (src/main.ts through tsx; `npm start` runs the same
 * code from dist/) over a temp ATELIER_HOME, which generates the demo models itself, serving the studio's scripts
 * freshly compiled from web/src, and a headless system Chromium (found by scripts/ensure-chromium.mjs) driven by
 * playwright-core. Shared by the test/web files.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensurePythonEnv } from '../../src/worker/index.js';

const root = join(import.meta.dirname, '..', '..');

/** One JSON log line of the server. */
export interface LogLine {
  msg: string;
  [key: string]: unknown;
}

/** A running server with a browser page on the studio. */
export interface Studio {
  /** The studio's URL as the server logged it (`http://127.0.0.1:PORT/`). */
  url: string;
  page: Page;
  logs: LogLine[];
  /** Uncaught exceptions in the page: a test run should end with none. */
  pageErrors: string[];
  /** Messages of the confirm() dialogs the page opened (each is accepted). */
  dialogs: string[];
  /** The server's ATELIER_HOME. */
  home: string;
  /** GET on the API from Node, with the API key if any (to check what the studio did). */
  api<T>(path: string): Promise<T>;
  /** Stops the server and starts it again on the same home (a new port), then opens the page there. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** Options of `startStudio`. */
export interface StudioOptions {
  /**
   * Whether the server may use the Python worker environment (image generation, DreamBooth, the SD demo model,
   * generated in the background after start-up). Without, it sees an empty cache and skips them.
   */
  python?: boolean;
  /** Starts the server with `--api-key KEY`: /v1 then needs it, the studio's own files do not. */
  apiKey?: string;
  /** Browser viewport (default Playwright's 1280×720). */
  viewport?: { width: number; height: number };
}

/** Compiles web/src into dist/web as `npm run build` does, so the page runs the sources under test. */
function buildScripts(): void {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'web', 'tsconfig.json')], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`web build failed: ${result.stdout}${result.stderr}`);
}

/** $ATELIER_CHROMIUM as the test runner set it, else whatever ensure-chromium finds (or installs). */
function chromiumPath(): string {
  if (process.env.ATELIER_CHROMIUM) return process.env.ATELIER_CHROMIUM;
  const found = spawnSync(process.execPath, [join(root, 'scripts', 'ensure-chromium.mjs')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (found.status !== 0) throw new Error('no Chromium for the studio tests (see the ensure-chromium message above)');
  return found.stdout.trim();
}

function serve(home: string, python: boolean, apiKey: string | undefined) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // A chat-only host: serve skips the Python demo (no background install) and nothing needs torch.
  if (!python) env.ATELIER_USE_PYTHON = 'false';
  const args = [
    '--import',
    'tsx',
    join(root, 'src', 'main.ts'),
    '--home',
    home,
    'serve',
    '--port',
    '0',
    ...(apiKey ? ['--api-key', apiKey] : []),
  ];
  const child = spawn(process.execPath, args, { env, stdio: 'pipe' });
  const logs: LogLine[] = [];
  let pending = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split('\n');
    pending = lines.pop()!;
    for (const line of lines) if (line.startsWith('{')) logs.push(JSON.parse(line) as LogLine);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, logs, exited, stderr: () => stderr };
}

/** Starts `atelier serve` on `home` and resolves with the studio URL it logged. */
async function serveStudio(
  home: string,
  options: StudioOptions,
): Promise<{ server: ReturnType<typeof serve>; url: string }> {
  const server = serve(home, options.python ?? false, options.apiKey);
  for (;;) {
    const line = server.logs.find((l) => typeof l.studio === 'string');
    if (line) return { server, url: line.studio as string };
    const code = await Promise.race([server.exited, sleep(50, 'wait' as const)]);
    if (code !== 'wait')
      throw new Error(`atelier serve exited (${String(code)}) before serving the studio: ${server.stderr()}`);
  }
}

/** Starts server and browser; the page is open on the studio. */
export async function startStudio(options: StudioOptions = {}): Promise<Studio> {
  buildScripts();
  if (options.python) await ensurePythonEnv();
  const home = mkdtempSync(join(tmpdir(), 'atelier-web-'));
  let { server, url } = await serveStudio(home, options);
  const browser: Browser = await chromium.launch({ executablePath: chromiumPath(), headless: true });
  const page = await browser.newPage(options.viewport ? { viewport: options.viewport } : {});
  // A loaded 2-core machine answers slowly; waits end on conditions, these only bound them.
  page.setDefaultTimeout(120_000);
  const pageErrors: string[] = [];
  const dialogs: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.accept();
  });
  await page.goto(url);
  const studio: Studio = {
    url,
    page,
    logs: server.logs,
    pageErrors,
    dialogs,
    home,
    api: async <T>(path: string) => {
      const headers: Record<string, string> = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
      return (await (await fetch(new URL(path, studio.url), { headers })).json()) as T;
    },
    restart: async () => {
      server.child.kill('SIGTERM');
      await server.exited;
      ({ server, url } = await serveStudio(home, options));
      studio.url = url;
      studio.logs = server.logs;
      await page.goto(url);
    },
    close: async () => {
      await browser.close();
      server.child.kill('SIGTERM');
      await server.exited;
      rmSync(home, { recursive: true, force: true });
    },
  };
  return studio;
}

/** Saves a full-page screenshot as `<dir>/<name>.png` (dir: $ATELIER_SCREENSHOTS, else a temp folder); returns the path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = process.env.ATELIER_SCREENSHOTS ?? join(tmpdir(), 'atelier-studio-screenshots');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * What sticks out sideways: how far the page scrolls sideways, and each shown element whose right edge passes the
 * viewport's (tag#id.class and by how many pixels). Both empty/0 when the layout fits.
 */
export async function sidewaysOverflow(page: Page): Promise<{ scroll: number; wide: string[] }> {
  return page.evaluate<{ scroll: number; wide: string[] }>(`(() => {
    const width = document.documentElement.clientWidth;
    const wide = [];
    for (const node of document.querySelectorAll('body *')) {
      const box = node.getBoundingClientRect();
      if (box.width === 0 || box.right <= width + 0.5) continue;
      wide.push(node.tagName.toLowerCase() + (node.id ? '#' + node.id : '') + (node.className && typeof node.className === 'string' ? '.' + node.className.split(' ').join('.') : '') + ' +' + Math.round(box.right - width));
    }
    return { scroll: document.documentElement.scrollWidth - width, wide };
  })()`);
}

/** Resolves once the server lists `model` (the Python demo appears a few seconds after start-up). */
export async function waitForModel(studio: Studio, model: string): Promise<void> {
  for (;;) {
    const { data } = await studio.api<{ data: { id: string }[] }>('/v1/models');
    if (data.some((m) => m.id === model)) return;
    await sleep(250);
  }
}

/**
 * Polls `condition` until it holds. For waits the page's own waitForFunction cannot do: it evaluates strings with
 * `new Function`, which the studio's Content-Security-Policy (no 'unsafe-eval') rightly refuses.
 */
export async function until(condition: () => Promise<boolean>, limitMs = 300_000): Promise<void> {
  // Bounded like the page's own waits, so a condition that never holds fails the test instead of hanging it.
  const deadline = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > deadline)
      throw new Error(`condition still false after ${limitMs / 1000} s: ${condition.toString().slice(0, 200)}`);
    await sleep(100);
  }
}
