import type { SqlDatabase } from './sql-database.js';

/** Model formats atelier knows how to detect and serve. */
export type ModelFormat = 'gguf' | 'onnx' | 'diffusers' | 'sd-checkpoint';

/** An installed model as stored. */
export interface ModelRecord {
  /** Unique name, used as the OpenAI model id (`org/repo`, `atelier-demo-llama-gguf`). */
  name: string;
  format: ModelFormat;
  /** Absolute path of the model file (GGUF, .safetensors) or folder (ONNX, diffusers). */
  path: string;
  /** Total bytes on disk. */
  size: number;
  /** Where it came from: `hf:org/repo`, `demo`, `local:/path`, `fine-tune:ftjob-…`. */
  source: string;
  /** The commit sha it was pulled at, when known. */
  revision: string | null;
  /** Free-form details (file list, base model, …). */
  metadata: Record<string, unknown>;
  /** Unix seconds. */
  createdAt: number;
}

interface Row {
  name: string;
  format: ModelFormat;
  path: string;
  size: number;
  source: string;
  revision: string | null;
  metadata: string;
  created_at: number;
}

function fromRow(row: Row): ModelRecord {
  return {
    name: row.name,
    format: row.format,
    path: row.path,
    size: row.size,
    source: row.source,
    revision: row.revision,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    createdAt: row.created_at,
  };
}

/** Rows of the `models` table. */
export class ModelRepo {
  constructor(private readonly db: SqlDatabase) {}

  /** Inserts or replaces a model by name. */
  put(model: ModelRecord): void {
    this.db
      .prepare(
        `INSERT INTO models (name, format, path, size, source, revision, metadata, created_at)
         VALUES (@name, @format, @path, @size, @source, @revision, @metadata, @created_at)
         ON CONFLICT (name) DO UPDATE SET format = excluded.format, path = excluded.path, size = excluded.size,
           source = excluded.source, revision = excluded.revision, metadata = excluded.metadata,
           created_at = excluded.created_at`,
      )
      .run({
        name: model.name,
        format: model.format,
        path: model.path,
        size: model.size,
        source: model.source,
        revision: model.revision,
        metadata: JSON.stringify(model.metadata),
        created_at: model.createdAt,
      });
  }

  /** A model by name, or undefined. */
  get(name: string): ModelRecord | undefined {
    const row = this.db.prepare('SELECT * FROM models WHERE name = ?').get(name) as Row | undefined;
    return row && fromRow(row);
  }

  /** All models, by name. */
  list(): ModelRecord[] {
    return (this.db.prepare('SELECT * FROM models ORDER BY name').all() as Row[]).map(fromRow);
  }

  /** Deletes a model row; returns whether one existed. */
  delete(name: string): boolean {
    return this.db.prepare('DELETE FROM models WHERE name = ?').run(name).changes > 0;
  }
}
