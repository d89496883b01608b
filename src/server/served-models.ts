import { ModelNotFoundError } from '../protocol/index.js';
import type { ModelRegistry } from '../models/index.js';
import type { ModelRecord } from '../store/index.js';

/**
 * Which installed models the server exposes: the configured names, or every installed model when none are
 * configured. Read from the registry on each call so `atelier pull` / `rm` in another process show up live.
 */
export class ServedModels {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly only: readonly string[],
  ) {}

  /** Models served now, by name. */
  list(): ModelRecord[] {
    const all = this.registry.list();
    return this.only.length === 0 ? all : all.filter((m) => this.only.includes(m.name));
  }

  /** A served model by id; throws OpenAI's 404 `model_not_found` otherwise (also for installed but unserved ones). */
  require(id: string): ModelRecord {
    const model = this.registry.get(id);
    if (!model || (this.only.length > 0 && !this.only.includes(id))) throw new ModelNotFoundError(id);
    return model;
  }

  /** Configured names that are not installed (reported at start-up). */
  missing(): string[] {
    return this.only.filter((name) => !this.registry.get(name));
  }
}
