/** The flag parsing of `atelier train`: numbers, `--set KEY=VALUE`, config files and the verb's own `--config`. */
import { InvalidArgumentError, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { WorkerConfig } from '../personalize/index.js';
import { InvalidRequestError } from '../protocol/index.js';

/** Commander parser of an integer flag. */
export function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('expected an integer');
  return n;
}

/** Commander parser of a number flag. */
export function number(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('expected a number');
  return n;
}

/** `train.lr=1e-4` → `{train: {lr: 0.0001}}`; values are YAML (numbers, booleans, lists). */
export function parseSet(item: string): WorkerConfig {
  const eq = item.indexOf('=');
  if (eq <= 0) throw new InvalidRequestError(`--set ${item}: expected KEY=VALUE, e.g. train.grad_accum=2`);
  const keys = item.slice(0, eq).trim().split('.');
  let value: unknown = parseYaml(item.slice(eq + 1));
  for (const key of keys.reverse()) value = { [key]: value };
  return value as WorkerConfig;
}

/** A training config file (YAML or JSON) as a worker config mapping. */
export function readConfigFile(path: string): WorkerConfig {
  const loaded: unknown = parseYaml(readFileSync(path, 'utf8'));
  if (loaded === null || loaded === undefined) return {};
  if (typeof loaded !== 'object' || Array.isArray(loaded)) {
    throw new InvalidRequestError(`${path}: a training config must be a YAML mapping`);
  }
  return loaded as WorkerConfig;
}

const isConfigFlag = (arg: string): boolean => arg === '--config' || arg.startsWith('--config=');

function flagValue(raw: readonly string[], at: number): string | undefined {
  const arg = raw[at]!;
  return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : raw[at + 1];
}

/**
 * `--config` is also the program's global option (the server config file), and commander hands it to the program
 * wherever it appears. For `atelier train`, a `--config` written after the verb means the training config: it is
 * taken back from the program here, so the home still opens with the server config given before the verb (if any).
 */
export function takeTrainConfig(command: Command): string | undefined {
  const program = command.parent;
  const raw = (program as unknown as { rawArgs?: string[] } | null)?.rawArgs ?? [];
  const verb = raw.indexOf(command.name());
  const after = raw.findIndex((arg, i) => verb >= 0 && i > verb && isConfigFlag(arg));
  if (!program || after < 0) return undefined;
  const before = raw.findIndex((arg, i) => i < verb && isConfigFlag(arg));
  program.setOptionValue('config', before >= 0 ? flagValue(raw, before) : undefined);
  return flagValue(raw, after);
}
