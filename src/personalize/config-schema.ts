import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { InvalidRequestError } from '../protocol/index.js';
import { callOnce, type WorkerClientOptions } from '../worker/index.js';
import type { WorkerConfig } from './dreambooth-config.js';

/** One schema violation: a dotted config path and why. */
export interface ConfigProblem {
  path: string;
  message: string;
}

function problemOf(error: ErrorObject): ConfigProblem {
  const at = error.instancePath.replace(/^\//, '').replaceAll('/', '.');
  if (error.keyword === 'additionalProperties') {
    const key = (error.params as { additionalProperty: string }).additionalProperty;
    const known = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
    return { path: at ? `${at}.${key}` : key, message: `unknown key (known: ${known.join(', ')})` };
  }
  return { path: at || '(config)', message: error.message ?? error.keyword };
}

/**
 * The worker's training-config JSON Schema (`train_schema` command; the Python dataclasses are its single source),
 * fetched once per process on first use — one short worker start — and compiled with Ajv. Lets a request with a
 * bad `config` be refused with a 400 at create time instead of failing after it waited in the queue.
 */
export class WorkerConfigSchema {
  private validator: Promise<ValidateFunction> | null = null;

  constructor(private readonly worker: Pick<WorkerClientOptions, 'python' | 'env'> = {}) {}

  /** Every schema violation of `config` (empty when valid), sorted by path. */
  async problems(config: WorkerConfig): Promise<ConfigProblem[]> {
    this.validator ??= this.load();
    const validate = await this.validator.catch((error: unknown) => {
      this.validator = null; // a worker that failed to start may work next time (venv installed meanwhile)
      throw error;
    });
    if (validate(config)) return [];
    return (validate.errors ?? []).map(problemOf).sort((a, b) => a.path.localeCompare(b.path));
  }

  /** Throws a 400 naming `param` + the first bad path when `config` violates the schema, listing every problem. */
  async check(config: WorkerConfig, param: string): Promise<void> {
    const problems = await this.problems(config);
    if (problems.length === 0) return;
    const lines = problems.map((p) => `${p.path}: ${p.message}`);
    throw new InvalidRequestError(`invalid training config (${problems.length} problem(s))\n${lines.join('\n')}`, {
      param: `${param}.${problems[0]!.path}`,
      code: 'invalid_config',
    });
  }

  private async load(): Promise<ValidateFunction> {
    const result = await callOnce('train_schema', {}, this.worker).catch((error: unknown) => {
      throw new Error(`could not read the training config schema: ${(error as Error).message}`);
    });
    const schema = result.data.schema;
    if (schema === null || typeof schema !== 'object') {
      throw new Error('could not read the training config schema: the worker answered without one');
    }
    // Not strict: the schema's type unions with null-holding enums are valid but trip strict mode. Verbose: errors
    // carry their parent schema, whose properties name the known keys.
    return new Ajv2020({ allErrors: true, strict: false, verbose: true }).compile(schema as object);
  }
}
