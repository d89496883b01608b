import type { Command } from 'commander';
import type { ModelRecord } from '../store/index.js';
import { formatBytes } from '../util/index.js';
import { withContext, writers, type CliDeps } from './context.js';

/** Renders rows as space-aligned columns. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

function table(models: ModelRecord[]): string {
  if (models.length === 0)
    return 'no models installed: run `atelier demo-models`, `atelier pull <repo>` or `atelier models add <path>`\n';
  return formatTable(
    ['NAME', 'FORMAT', 'SIZE', 'SOURCE'],
    models.map((m) => [m.name, m.format, formatBytes(m.size), m.source]),
  );
}

/** `atelier models [--json]` lists installed models; `atelier models add <path>` installs a local file or folder. */
export function registerModels(program: Command, deps: CliDeps): void {
  const models = program
    .command('models')
    .description('list installed models (name, format, size, source), or add a local one');
  models
    .command('list', { isDefault: true })
    .description('list installed models')
    .option('--json', 'print JSON instead of a table')
    .action(async (options: { json?: boolean }, command: Command) => {
      const { out } = writers(deps);
      await withContext(command, ({ registry }) => {
        const list = registry.list();
        out(options.json ? `${JSON.stringify(list, null, 2)}\n` : table(list));
      });
    });
  models
    .command('add')
    .description(
      'copy a local model (GGUF file, ONNX/diffusers folder, SD .safetensors) into the store and register it',
    )
    .argument('<path>', 'file or folder')
    .option('--name <name>', 'model name (default: the file or folder name)')
    .option('--replace', 'replace a model of the same name')
    .action(async (path: string, options: { name?: string; replace?: boolean }, command: Command) => {
      const { out } = writers(deps);
      await withContext(command, ({ registry }) => {
        const model = registry.addLocal(path, {
          ...(options.name ? { name: options.name } : {}),
          replace: Boolean(options.replace),
        });
        out(`installed ${model.name} (${model.format}, ${formatBytes(model.size)})\n`);
      });
    });
}
