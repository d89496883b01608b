import Ajv, { type ErrorObject } from 'ajv';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { resolveHome } from '../store/index.js';
import { configSchema, envKeys, type AtelierConfig } from './config-schema.js';

/** Bad configuration; the message names the source (file, variable or flag) and the key. */
export class ConfigError extends Error {}

/** Where configuration comes from. Later layers win: defaults < file < env < flags. */
export interface LoadConfigOptions {
  /** Config file (YAML or JSON). Default: `ATELIER_CONFIG`, else `<home>/config.yaml` when it exists. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags, already typed. */
  flags?: Partial<AtelierConfig>;
}

const ajv = new Ajv.default({ allErrors: true, strict: true });
const validateLayer = ajv.compile(configSchema);
const known = Object.keys(configSchema.properties).join(', ');

function describe(error: ErrorObject): string {
  const key = error.instancePath.replace(/^\//, '').replace(/\//g, '.');
  if (error.keyword === 'additionalProperties') {
    const extra = (error.params as { additionalProperty: string }).additionalProperty;
    return `unknown key '${key ? `${key}.` : ''}${extra}' (known keys: ${known})`;
  }
  if (error.keyword === 'enum') {
    return `'${key}' ${error.message} (${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')})`;
  }
  return `'${key}' ${error.message}`;
}

/** Validates one layer, throwing a ConfigError that lists every problem with its source. */
function checkLayer(layer: unknown, source: string): Partial<AtelierConfig> {
  if (!validateLayer(layer)) {
    throw new ConfigError(`${source}: ${(validateLayer.errors ?? []).map(describe).join('; ')}`);
  }
  return layer as Partial<AtelierConfig>;
}

function readFileLayer(path: string): Partial<AtelierConfig> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `config file ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  let parsed: unknown;
  try {
    // YAML is a superset of JSON, so one parser reads both.
    parsed = parseYaml(text) ?? {};
  } catch (error) {
    throw new ConfigError(`config file ${path}: not valid YAML/JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path}: expected a mapping of keys (${known})`);
  }
  return checkLayer(parsed, `config file ${path}`);
}

/** A whole-number variable as a number; anything else stays a string, for the schema to reject with its name. */
function envInteger(raw: string): number | string {
  return /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
}

/** `a=1,b=2` → `{ a: 1, b: 2 }` (values as in envInteger; a pair without `=` maps to '', which the schema rejects). */
function envMap(raw: string): Record<string, number | string> {
  const pairs = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((pair) => {
      const at = pair.lastIndexOf('=');
      return at < 0 ? [pair, ''] : [pair.slice(0, at).trim(), envInteger(pair.slice(at + 1))];
    });
  return Object.fromEntries(pairs);
}

function envLayer(env: NodeJS.ProcessEnv): Partial<AtelierConfig> {
  const layer: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(envKeys)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const type = (configSchema.properties as Record<string, { type?: string }>)[key]?.type;
    const value =
      type === 'integer'
        ? envInteger(raw)
        : type === 'boolean'
          ? (({ true: true, false: false } as Record<string, boolean>)[raw.trim()] ?? raw)
          : type === 'array'
            ? raw
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean)
            : type === 'object'
              ? envMap(raw)
              : raw;
    try {
      checkLayer({ [key]: value }, name);
    } catch (error) {
      throw new ConfigError(
        `environment variable ${name}=${JSON.stringify(raw)}: ${(error as Error).message.replace(`${name}: `, '')}`,
      );
    }
    layer[key] = value;
  }
  return layer as Partial<AtelierConfig>;
}

/** The documented defaults (home from ATELIER_HOME or `~/.atelier`). */
export function defaultConfig(env: NodeJS.ProcessEnv = process.env): AtelierConfig {
  return {
    host: '127.0.0.1',
    port: 8080,
    home: resolveHome(undefined, { ...env, ATELIER_HOME: undefined }),
    apiKeys: [],
    models: [],
    threads: 0,
    contextSize: 4096,
    modelContextSizes: {},
    kvCacheType: 'F16',
    logLevel: 'info',
    bodyLimit: 100 * 1024 * 1024,
    imageFetch: 'public',
    imageFetchAllow: [],
    imageFetchTimeoutMs: 10_000,
    imageMaxBytes: 20 * 1024 * 1024,
    imageMaxRequestBytes: 50 * 1024 * 1024,
    imageMaxCount: 8,
    imageMaxSide: 8192,
    imageMaxPixels: 16_777_216,
    imageAllowVector: false,
    documentMaxBytes: 32 * 1024 * 1024,
    documentMaxPages: 50,
    documentMaxPixels: 33_554_432,
    documentTimeoutMs: 20_000,
    allowedHosts: [],
    allowedOrigins: [],
    publicUrl: '',
    python: true,
    databaseUrl: '',
    blobDir: '',
    role: 'all',
  };
}

/**
 * Loads and validates the configuration: defaults, then the config file, then `ATELIER_*` variables, then flags.
 * Unknown keys and wrong types are errors naming the key and where it came from. Relative `home` paths resolve
 * against the working directory.
 */
export function loadConfig(options: LoadConfigOptions = {}): AtelierConfig {
  const env = options.env ?? process.env;
  const fromEnv = envLayer(env);
  const flags = checkLayer(
    Object.fromEntries(Object.entries(options.flags ?? {}).filter(([, v]) => v !== undefined)),
    'command-line flags',
  );
  const explicitFile = options.file ?? env.ATELIER_CONFIG;
  const homeBeforeFile = resolve(flags.home ?? fromEnv.home ?? defaultConfig(env).home);
  const file = explicitFile ?? join(homeBeforeFile, 'config.yaml');
  const fromFile = explicitFile || existsSync(file) ? readFileLayer(resolve(file)) : {};
  const merged: AtelierConfig = { ...defaultConfig(env), ...fromFile, ...fromEnv, ...flags };
  return { ...merged, home: resolve(merged.home) };
}
