import { InvalidArgumentError, type Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { createServer, type AtelierConfig } from '../server/index.js';
import { openContext, type AppContext, type CliDeps } from './context.js';
import { installDemoModels } from './demo-models.js';

interface ServeFlags {
  host?: string;
  port?: number;
  apiKey?: string[];
  model?: string[];
  threads?: number;
  contextSize?: number;
  logLevel?: AtelierConfig['logLevel'];
  python?: boolean;
  role?: AtelierConfig['role'];
}

function integer(name: string): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
    return Number(value);
  };
}

/**
 * Makes sure there is something to serve. With no models configured and only demo models installed (none on a
 * fresh home; some when a first run was cut short), the missing demo models are generated (saying so first);
 * configured names that are not installed are installed when they are demo models, otherwise start-up fails naming
 * them. The TypeScript demos (under a second) are made before listening; the Python ones are returned as a task to
 * run once the server is up: it installs the Python environment if needed (minutes, once) and generates them, and
 * they appear in /v1/models when done. With `python: false` (`--no-python`) they are skipped: a chat-only host.
 */
async function prepareModels(
  app: FastifyInstance,
  context: AppContext,
  deps: CliDeps,
): Promise<(signal: AbortSignal) => Promise<void>> {
  const { config, registry } = context;
  const log = (line: string): void => app.log.info(line);
  const demoNames = new Set(deps.demoModels.map((d) => d.name));
  const missing = config.models.filter((name) => !registry.get(name));
  const installed = registry.list();
  const onlyDemos = config.models.length === 0 && installed.every((m) => demoNames.has(m.name));
  const demosMissing = deps.demoModels.some((d) => !registry.get(d.name) && (config.python || !d.needsPython));
  if (!(onlyDemos && demosMissing) && !missing.some((name) => demoNames.has(name))) {
    if (missing.length > 0) throw notInstalled(missing);
    return async () => {};
  }
  if (config.models.length === 0 && installed.length === 0) {
    app.log.info(
      `no model configured and none installed in ${config.home}: generating the demo models (${[...demoNames].join(', ')})`,
    );
  }
  await installDemoModels(registry, deps, { log, only: (spec) => !spec.needsPython });
  const later = deps.demoModels.filter((spec) => spec.needsPython && !registry.get(spec.name)).map((spec) => spec.name);
  const stillMissing = missing.filter((name) => !registry.get(name) && !(config.python && later.includes(name)));
  if (stillMissing.length > 0) throw notInstalled(stillMissing);
  if (later.length === 0) return async () => {};
  if (!config.python) {
    for (const name of later)
      log(`skipping ${name}: needs the Python environment; this host is chat-only (--no-python)`);
    return async () => {};
  }
  return (signal) => installPythonDemos(context, deps, later, log, signal);
}

/** The background half of a first run: the Python environment (if missing), then the Python-made demo models. */
async function installPythonDemos(
  context: AppContext,
  deps: CliDeps,
  names: string[],
  log: (line: string) => void,
  signal: AbortSignal,
): Promise<void> {
  if (!deps.python.isReady()) {
    log(`installing the Python environment in the background for ${names.join(', ')} (chat is served meanwhile)`);
  }
  await deps.python.ensure(log, signal);
  log(`generating ${names.join(', ')} in the background (Python worker); served once installed`);
  await installDemoModels(context.registry, deps, { log, only: (spec) => names.includes(spec.name) });
}

function notInstalled(names: string[]): Error {
  return new Error(
    `configured models not installed: ${names.join(', ')} — run \`atelier pull <repo>\` or \`atelier models add <path>\`, or change \`models\` in the config`,
  );
}

/** Closes the server (draining requests) and the store on SIGTERM/SIGINT; a second signal exits at once. */
function handleSignals(app: FastifyInstance, context: AppContext): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      app.log.warn(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    app.log.info(`${signal}: shutting down (finishing in-flight requests)`);
    app
      .close()
      .then(() => {
        context.store.close();
        app.log.info('stopped');
        process.exit(0);
      })
      .catch((error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/** `atelier serve`: the OpenAI-compatible server on config.host:config.port. */
export function registerServe(program: Command, deps: CliDeps): void {
  program
    .command('serve')
    .description('serve the OpenAI-compatible API (generates demo models when none is configured or installed)')
    .option('--host <host>', 'interface to listen on (default 127.0.0.1)')
    .option('--port <port>', 'TCP port, 0 for any free one (default 8080)', integer('--port'))
    .option('--api-key <key...>', 'require one of these bearer keys on /v1/* (default: no auth)')
    .option('--model <name...>', 'serve only these installed models (default: all)')
    .option('--threads <n>', 'CPU threads per engine, 0 = engine default', integer('--threads'))
    .option('--context-size <tokens>', 'context window for chat models (default 4096)', integer('--context-size'))
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (default info)')
    .option('--no-python', 'chat only: never install or start the Python diffusion worker (config key `python`)')
    .option('--role <role>', 'fleet mode (databaseUrl set): api | worker | all (default all), docs/FLEET.md')
    .action(async (flags: ServeFlags, command: Command) => {
      const context = openContext(command, {
        host: flags.host,
        port: flags.port,
        apiKeys: flags.apiKey,
        models: flags.model,
        threads: flags.threads,
        contextSize: flags.contextSize,
        logLevel: flags.logLevel,
        role: flags.role,
        // commander defaults a --no-x flag to true: only a given flag may override the config file and environment.
        python: command.getOptionValueSource('python') === 'cli' ? flags.python : undefined,
      });
      try {
        const app = await createServer({ ...context, version: deps.version }, await deps.routes(context));
        context.registry.sweepStaging();
        // A shutdown stops a background Python install instead of leaving pip running without its server.
        const stopBackground = new AbortController();
        app.addHook('onClose', async () => stopBackground.abort());
        const background = await prepareModels(app, context, deps);
        handleSignals(app, context);
        const address = await app.listen({ host: context.config.host, port: context.config.port });
        const names = context.registry.list().map((m) => m.name);
        const served = context.config.models.length > 0 ? context.config.models : names;
        app.log.info(
          { address, models: served },
          `atelier ${deps.version} listening on ${address}/v1 — ${served.length} model(s): ${served.join(', ')}`,
        );
        if (app.hasRoute({ method: 'GET', url: '/' }))
          app.log.info({ studio: `${address}/` }, `web studio: ${address}/`);
        if (context.config.apiKeys.length === 0 && !['127.0.0.1', 'localhost', '::1'].includes(context.config.host)) {
          app.log.warn(`listening on ${context.config.host} without API keys: anyone who can reach it can use it`);
        }
        background(stopBackground.signal).catch((error: unknown) =>
          app.log.error({ err: error }, 'background demo generation failed'),
        );
      } catch (error) {
        context.store.close();
        throw error;
      }
    });
}
