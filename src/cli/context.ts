import type { Command } from 'commander';
import type { ChatModelPool } from '../chat/index.js';
import { ModelRegistry, type DemoModelSpec } from '../models/index.js';
import type { AtelierConfig, RoutePlugin } from '../server/index.js';
import { loadConfig } from '../server/index.js';
import { openStore, type Store } from '../store/index.js';

/** What the composition root (src/main.ts) hands the CLI: everything concrete that the verbs wire together. */
export interface CliDeps {
  version: string;
  /** The demo model generators (src/models/demo). */
  demoModels: readonly DemoModelSpec[];
  /** The diffusion worker's Python environment. */
  python: {
    /** Whether it is installed (cheap check, never installs). */
    isReady(): boolean;
    /**
     * Installs it if needed (minutes the first time, without blocking the event loop), logging progress; aborting
     * `signal` stops the install.
     */
    ensure(log: (line: string) => void, signal?: AbortSignal): Promise<unknown>;
  };
  /**
   * Route plugins of the other resources (chat, images, files, fine-tuning), built once the store is open. They
   * register their own `onClose` hooks to release engines and workers on shutdown.
   */
  routes(context: AppContext): RoutePlugin[] | Promise<RoutePlugin[]>;
  /** Chat models for `atelier run` / `atelier chat`, loaded lazily; the verb disposes the pool when done. */
  chatPool?(context: AppContext): ChatModelPool;
  /** Where human-readable output goes (default process.stdout / process.stderr). */
  out?: (text: string) => void;
  err?: (text: string) => void;
}

/** An opened home: config, store and registry, as every verb uses them. */
export interface AppContext {
  config: AtelierConfig;
  store: Store;
  registry: ModelRegistry;
}

/** Global options every verb accepts. */
export interface GlobalOptions {
  home?: string;
  config?: string;
}

/** Loads config (global --home/--config plus verb `flags`) and opens the store. Close with `context.store.close()`. */
export function openContext(command: Command, flags: Partial<AtelierConfig> = {}): AppContext {
  const globals = command.optsWithGlobals<GlobalOptions>();
  const config = loadConfig({
    ...(globals.config ? { file: globals.config } : {}),
    flags: { ...flags, ...(globals.home ? { home: globals.home } : {}) },
  });
  const store = openStore(config.home, { databaseUrl: config.databaseUrl, blobDir: config.blobDir });
  return { config, store, registry: new ModelRegistry(store) };
}

/** Runs `fn` with an opened context and always closes the store. */
export async function withContext<T>(command: Command, fn: (context: AppContext) => Promise<T> | T): Promise<T> {
  const context = openContext(command);
  try {
    return await fn(context);
  } finally {
    context.store.close();
  }
}

/** stdout/stderr writers of the deps, defaulting to the process streams. */
export function writers(deps: CliDeps): { out: (text: string) => void; err: (text: string) => void } {
  return {
    out: deps.out ?? ((text) => void process.stdout.write(text)),
    err: deps.err ?? ((text) => void process.stderr.write(text)),
  };
}
