import { cpSync, existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { ConflictError, InvalidRequestError, ModelNotFoundError } from '../protocol/index.js';
import type { ModelRecord, Store } from '../store/index.js';
import { fsyncDir, newId } from '../util/index.js';
import { checkpointModel } from './checkpoint-model.js';
import { detectFormat } from './detect-format.js';

/** How a model is registered from a staged file or folder. */
export interface InstallOptions {
  /** Unique model name (the OpenAI model id). */
  name: string;
  /** A folder on the store's filesystem (under `tmp/` or `downloads/`); it is moved, not copied. */
  staged: string;
  /** The model file or folder inside `staged` when it is not `staged` itself (detected there). */
  entry?: string;
  /** Provenance: `hf:org/repo`, `demo`, `local:/abs/path`, … */
  source: string;
  revision?: string | null;
  metadata?: Record<string, unknown>;
}

const namePattern = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;

/** Checks a model name: 1–128 of `A-Z a-z 0-9 . _ : / -`, starting alphanumeric, no `..` or `//`. */
export function validateModelName(name: string): string {
  if (!namePattern.test(name) || name.includes('..') || name.includes('//') || name.endsWith('/')) {
    throw new InvalidRequestError(
      `invalid model name ${JSON.stringify(name)}: use 1-128 letters, digits and . _ : / - (like org/model)`,
      { param: 'name' },
    );
  }
  return name;
}

/** Total bytes of a file, or of every file under a folder. */
export function diskSize(path: string): number {
  const info = statSync(path);
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of readdirSync(path)) total += diskSize(join(path, entry));
  return total;
}

/**
 * Installed models: rows in the store plus their files under `<home>/models/`. Each install goes to a fresh folder
 * and the row is switched over in one transaction, so a crash mid-install leaves the previous version served; the
 * replaced folder is deleted only after the commit.
 */
export class ModelRegistry {
  constructor(private readonly store: Store) {}

  /** Where partial downloads are kept between pulls. */
  get downloadsDir(): string {
    return this.store.layout.downloads;
  }

  /** All installed models, by name. */
  list(): ModelRecord[] {
    return this.store.models.list();
  }

  /** A model by name (a fine-tuning checkpoint's `…:ckpt-step-N` name included), or undefined. */
  get(name: string): ModelRecord | undefined {
    return this.store.models.get(name) ?? checkpointModel(this.store, name);
  }

  /** A model by name; throws the OpenAI 404 (`model_not_found`) when absent. */
  require(name: string): ModelRecord {
    const model = this.get(name);
    if (!model) throw new ModelNotFoundError(name);
    return model;
  }

  /** A fresh empty staging path under the store's tmp folder (same filesystem, so installs are renames). */
  stagingPath(label: string): string {
    return join(this.store.layout.tmp, `${label.replace(/[^A-Za-z0-9._-]/g, '_')}-${newId('stage', 8)}`);
  }

  /**
   * Deletes staging folders older than `minAgeMs` (default a day) left in `tmp/` by installs a crash interrupted.
   * Younger ones may belong to another process installing right now.
   */
  sweepStaging(minAgeMs = 24 * 3600 * 1000): void {
    const cutoff = Date.now() - minAgeMs;
    for (const entry of readdirSync(this.store.layout.tmp, { withFileTypes: true })) {
      const path = join(this.store.layout.tmp, entry.name);
      if (entry.isDirectory() && /-stage-[A-Za-z0-9]{8}$/.test(entry.name) && statSync(path).mtimeMs < cutoff) {
        rmSync(path, { recursive: true, force: true });
      }
    }
  }

  /** Detects the staged model's format, moves it into the models folder and registers it, replacing any same name. */
  install(options: InstallOptions): ModelRecord {
    validateModelName(options.name);
    if (!statSync(options.staged).isDirectory()) throw new Error(`staged model must be a folder: ${options.staged}`);
    const detected = detectFormat(options.entry ?? options.staged);
    if (relative(options.staged, detected.path).startsWith('..')) {
      throw new Error(`model entry ${detected.path} is outside its staging folder ${options.staged}`);
    }
    const inner = relative(options.staged, detected.path);
    const folder = join(this.store.layout.models, `${options.name.replace(/[/:]/g, '--')}-${newId('v', 8).slice(2)}`);
    renameSync(options.staged, folder);
    fsyncDir(this.store.layout.models);
    const record: ModelRecord = {
      name: options.name,
      format: detected.format,
      path: inner === '' ? folder : join(folder, inner),
      size: diskSize(folder),
      source: options.source,
      revision: options.revision ?? null,
      metadata: options.metadata ?? {},
      createdAt: Math.floor(Date.now() / 1000),
    };
    let previous: ModelRecord | undefined;
    try {
      previous = this.store.transaction(() => {
        const old = this.store.models.get(options.name);
        this.store.models.put(record);
        return old;
      });
    } catch (error) {
      rmSync(folder, { recursive: true, force: true });
      throw error;
    }
    if (previous) this.deleteFiles(previous);
    return record;
  }

  /**
   * Copies a local model file or folder into the store and registers it (the original is left alone). The name
   * defaults to the file or folder name without extension. Refuses a name already taken unless `replace` is set.
   */
  addLocal(path: string, options: { name?: string; replace?: boolean } = {}): ModelRecord {
    const source = resolve(path);
    detectFormat(source);
    const name = validateModelName(options.name ?? basename(source).replace(/\.(gguf|safetensors)$/, ''));
    if (!options.replace && this.get(name)) {
      throw new ConflictError(`a model named '${name}' is already installed; remove it first or choose another name`);
    }
    const staged = this.stagingPath(name);
    try {
      cpSync(source, statSync(source).isDirectory() ? staged : join(staged, basename(source)), { recursive: true });
      return this.install({ name, staged, source: `local:${source}` });
    } finally {
      rmSync(staged, { recursive: true, force: true });
    }
  }

  /** Unregisters a model and deletes its files (only ever files inside the models folder). */
  remove(name: string): ModelRecord {
    // Only stored models: a checkpoint's name resolves to its base's files, which are not its to delete.
    const record = this.store.models.get(name);
    if (!record) throw new ModelNotFoundError(name);
    this.store.models.delete(name);
    this.deleteFiles(record);
    return record;
  }

  /**
   * The install folders under `models/` that a record's files live in: that of its path and, for adapters (a LoRA
   * registered over its base model's path), that of `metadata.lora`.
   */
  private foldersOf(record: ModelRecord): string[] {
    const root = this.store.layout.models;
    const paths = [record.path, record.metadata.lora, record.metadata.checkpoint].filter(
      (p): p is string => typeof p === 'string',
    );
    return paths.filter((p) => p.startsWith(root + sep)).map((p) => join(root, relative(root, p).split(sep)[0]!));
  }

  /** Deletes a removed record's folders, except those another model still uses (a LoRA shares its base's). */
  private deleteFiles(record: ModelRecord): void {
    const inUse = new Set(this.store.models.list().flatMap((other) => this.foldersOf(other)));
    for (const folder of this.foldersOf(record)) {
      if (!inUse.has(folder) && existsSync(folder)) rmSync(folder, { recursive: true, force: true });
    }
  }
}
