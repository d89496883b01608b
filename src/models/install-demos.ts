import { rmSync } from 'node:fs';
import type { ModelRecord } from '../store/index.js';
import type { ModelRegistry } from './registry.js';

/**
 * A demo model generator, as src/models/demo exports them (`demoModels`). Restated here structurally so the registry
 * does not depend on the generators' code.
 */
export interface DemoModelSpec {
  /** Stable model name, e.g. `atelier-demo-llama-gguf`. */
  name: string;
  format: 'gguf' | 'onnx' | 'diffusers';
  /** Whether generating it needs the Python worker's environment. */
  needsPython: boolean;
  /** One line about the model, kept in its metadata. */
  description?: string;
  /** Writes the model under `targetDir`; returns the file or folder to register (inside `targetDir`). */
  generate(targetDir: string, options: { seed: number; log?: (line: string) => void }): Promise<string>;
}

/** How demo models are installed. */
export interface InstallDemosOptions {
  /** Seed for the generators (default 0: the same weights every time). */
  seed?: number;
  /** Whether the Python environment is ready; Python-only demos are skipped (with a note) when false. */
  pythonReady: boolean;
  /** Regenerate models already installed (default false). */
  force?: boolean;
  log?: (line: string) => void;
}

/** What `installDemos` did. */
export interface InstallDemosResult {
  installed: ModelRecord[];
  /** Already present and left alone. */
  present: ModelRecord[];
  /** Skipped with the reason (e.g. Python not set up). */
  skipped: { name: string; reason: string }[];
}

/**
 * Generates each demo model into a staging folder and installs it under its stable name. A generator that fails
 * leaves nothing behind and does not stop the others; the error is reported in `skipped`.
 */
export async function installDemos(
  registry: ModelRegistry,
  specs: readonly DemoModelSpec[],
  options: InstallDemosOptions,
): Promise<InstallDemosResult> {
  const log = options.log ?? (() => {});
  const result: InstallDemosResult = { installed: [], present: [], skipped: [] };
  for (const spec of specs) {
    const existing = registry.get(spec.name);
    if (existing && !options.force) {
      result.present.push(existing);
      continue;
    }
    if (spec.needsPython && !options.pythonReady) {
      const reason =
        'needs the Python environment: `atelier serve` installs it in the background, or run `atelier demo-models --python`';
      log(`skipping ${spec.name}: ${reason}`);
      result.skipped.push({ name: spec.name, reason });
      continue;
    }
    const staged = registry.stagingPath(spec.name);
    try {
      log(`generating ${spec.name} (${spec.format})`);
      const entry = await spec.generate(staged, { seed: options.seed ?? 0, log });
      result.installed.push(
        registry.install({
          name: spec.name,
          staged,
          entry,
          source: 'demo',
          metadata: { seed: options.seed ?? 0, ...(spec.description ? { description: spec.description } : {}) },
        }),
      );
      log(`installed ${spec.name}`);
    } catch (error) {
      const reason = `generation failed: ${(error as Error).message}`;
      log(`skipping ${spec.name}: ${reason}`);
      result.skipped.push({ name: spec.name, reason });
    } finally {
      rmSync(staged, { recursive: true, force: true });
    }
  }
  return result;
}
