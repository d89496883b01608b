import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import picomatch from 'picomatch';
import type { ModelRecord } from '../store/index.js';
import { acquirePidLock } from '../util/index.js';
import { downloadFile } from './download-file.js';
import {
  hubOptionsFromEnv,
  listFiles,
  parseRepoSpec,
  resolveRevision,
  resolveUrl,
  type HubFile,
  type HubOptions,
} from './hub-client.js';
import { silentReporter, type PullReporter } from './pull-reporter.js';
import type { ModelRegistry } from './registry.js';

/** What to pull and how. */
export interface PullOptions {
  /** `org/repo` or `org/repo@revision` (branch, tag or commit; default `main`). */
  spec: string;
  /** Globs selecting files (picomatch; a glob without `/` matches file names in any folder). Default: all files. */
  include?: string[];
  /** Model name to install under (default: the repo, `org/repo`). */
  name?: string;
  /** Hub endpoint and token (default: from HF_ENDPOINT / HF_TOKEN). */
  hub?: HubOptions;
  reporter?: PullReporter;
  /** Attempts per file, counting resumes (default 5). */
  maxAttempts?: number;
}

function select(files: HubFile[], include: string[] | undefined, repo: string): HubFile[] {
  if (!include || include.length === 0) return files;
  const match = picomatch(include, { dot: true, basename: true });
  const chosen = files.filter((file) => match(file.path));
  if (chosen.length === 0) {
    const shown = files
      .slice(0, 20)
      .map((f) => `  ${f.path}`)
      .join('\n');
    throw new Error(
      `--include ${include.join(' ')} matches no file of ${repo}; it has:\n${shown}${files.length > 20 ? '\n  …' : ''}`,
    );
  }
  return chosen;
}

function safeSegment(path: string): void {
  if (path.split('/').some((part) => part === '..' || part === '' || part === '.') || path.startsWith('/')) {
    throw new Error(`the hub listed an unsafe file path ${JSON.stringify(path)}; refusing to write it`);
  }
}

/**
 * Pulls a model repo from a hub with Hugging Face's URL layout into the registry: pins the revision to its commit,
 * lists files (tree API), downloads the selected ones into `<home>/downloads/<repo>@<sha>/` with resume and
 * verification, detects the format and installs the folder under `name`. Partial files stay in `downloads/` after a
 * failure so the next pull resumes; a verified install removes them. Pulling the same commit again is a no-op.
 */
export async function pull(registry: ModelRegistry, options: PullOptions): Promise<ModelRecord> {
  const hub = options.hub ?? hubOptionsFromEnv();
  const reporter = options.reporter ?? silentReporter;
  const { repo, revision } = parseRepoSpec(options.spec);
  const name = options.name ?? repo;
  const sha = await resolveRevision(hub, repo, revision);
  const installed = registry.get(name);
  const includeKey = JSON.stringify(options.include ?? []);
  if (installed?.revision === sha && JSON.stringify(installed.metadata.include ?? []) === includeKey) {
    reporter.note(`${name} is already installed at ${sha.slice(0, 12)}`);
    return installed;
  }
  const files = select(await listFiles(hub, repo, sha), options.include, repo);
  reporter.plan?.(files);
  const folder = join(registry.downloadsDir, `${repo.replace('/', '--')}@${sha}`);
  mkdirSync(registry.downloadsDir, { recursive: true });
  // Two pulls of one commit would append to the same partial files.
  const release = acquirePidLock(`${folder}.lock`, `pulling ${repo}@${sha.slice(0, 12)}`);
  try {
    return await downloadAndInstall(registry, { folder, files, hub, repo, revision, sha, name, options, reporter });
  } finally {
    release();
  }
}

interface PullPlan {
  folder: string;
  files: HubFile[];
  hub: HubOptions;
  repo: string;
  revision: string;
  sha: string;
  name: string;
  options: PullOptions;
  reporter: PullReporter;
}

async function downloadAndInstall(registry: ModelRegistry, plan: PullPlan): Promise<ModelRecord> {
  const { folder, files, hub, repo, revision, sha, name, options, reporter } = plan;
  mkdirSync(folder, { recursive: true });
  for (const file of files) {
    safeSegment(file.path);
    const dest = join(folder, ...file.path.split('/'));
    // A file finished by an earlier, interrupted pull is re-verified rather than trusted.
    if (existsSync(dest)) renameSync(dest, `${dest}.partial`);
    const request = {
      url: resolveUrl(hub, repo, sha, file.path),
      file,
      dest,
      ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
    };
    await downloadFile(hub, request, reporter);
  }
  try {
    return registry.install({
      name,
      staged: folder,
      source: `hf:${repo}`,
      revision: sha,
      metadata: { repo, revision, include: options.include ?? [], files: files.map((f) => f.path) },
    });
  } catch (error) {
    // Verified files in a format atelier cannot serve are of no use for resume either.
    rmSync(folder, { recursive: true, force: true });
    throw error;
  }
}
