/**
 * Migration 2: JSON columns written before protocol/ converted fine-tuning wire shapes at the edge held the API's
 * snake_case; they are rewritten into the camelCase domain shapes the code now reads. Only keys are renamed: values
 * that belong to others keep their spelling (a job's worker config, user metadata, the worker's metric names).
 */
import type { SqlDatabase } from './sql-database.js';

type Json = Record<string, unknown>;

const camel = (key: string): string => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** The object with its own top-level keys camelCased (nested values untouched). */
export function camelCaseKeys(value: Json): Json {
  return Object.fromEntries(Object.entries(value).map(([key, v]) => [camel(key), v]));
}

/**
 * A job event's data in today's shape: a metrics event's worker metrics move under `metrics` beside `step`,
 * `totalSteps` and `trainLoss`; other events' keys are camelCased.
 */
export function camelCaseEventData(type: string, data: Json): Json {
  if (type !== 'metrics' || 'metrics' in data) return camelCaseKeys(data);
  const { step, total_steps: totalSteps, train_loss: trainLoss, ...metrics } = data;
  const out: Json = { step, metrics };
  if (totalSteps !== undefined) out.totalSteps = totalSteps;
  if (trainLoss !== undefined) out.trainLoss = trainLoss;
  return out;
}

/** Rewrites one JSON column of every row `select` returns with `convert` (rows keyed by `key`). */
function rewrite(
  db: SqlDatabase,
  table: string,
  column: string,
  key: string,
  where: string,
  convert: (value: Json, row: Json) => Json,
): void {
  const rows = db
    .prepare(`SELECT ${key} AS k, ${column} AS v, * FROM ${table} WHERE ${column} IS NOT NULL AND ${where}`)
    .all() as Json[];
  const update = db.prepare(`UPDATE ${table} SET ${column} = ? WHERE ${key} = ?`);
  for (const row of rows) {
    const value = JSON.parse(row.v as string) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) continue;
    update.run(JSON.stringify(convert(value as Json, row)), row.k);
  }
}

/** Converts fine-tuning jobs' hyperparameters and params, job events' data and checkpoints' metrics. */
export function camelCaseFineTuningRows(db: SqlDatabase): void {
  rewrite(db, 'jobs', 'hyperparameters', 'seq', "kind = 'fine_tuning'", camelCaseKeys);
  rewrite(db, 'jobs', 'params', 'seq', "kind = 'fine_tuning'", camelCaseKeys);
  rewrite(db, 'job_events', 'data', 'seq', 'TRUE', (data, row) => camelCaseEventData(String(row.type), data));
  rewrite(db, 'checkpoints', 'metrics', 'seq', 'TRUE', camelCaseKeys);
}
