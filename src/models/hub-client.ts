import { createAddressPolicy, OutboundError, outboundFetch } from '../util/index.js';

/** Where and how to reach a Hugging Face hub (or a mirror serving its URL layout). */
export interface HubOptions {
  /** Base URL, default `HF_ENDPOINT` or https://huggingface.co. */
  endpoint: string;
  /** Bearer token (`HF_TOKEN`), sent only to `endpoint`'s origin. */
  token?: string;
}

/** One file of a repo at a revision, from the tree API. */
export interface HubFile {
  path: string;
  size: number;
  /** Git blob id (SHA-1) of the file, or of its LFS pointer when `lfs` is set. */
  oid: string;
  /** LFS files: SHA-256 of the content. */
  sha256?: string;
}

/** The hub could not be reached at all; the message says what to do instead. */
export class HubOfflineError extends Error {}
/** The hub answered with an error (not found, unauthorised, server error); `status` is the HTTP status. */
export class HubHttpError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** The hub options from the environment: `HF_ENDPOINT` (default https://huggingface.co) and `HF_TOKEN`. */
export function hubOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): HubOptions {
  const token = env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN;
  return { endpoint: (env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, ''), ...(token ? { token } : {}) };
}

/** Splits `org/repo@revision` (revision defaults to `main`). */
export function parseRepoSpec(spec: string): { repo: string; revision: string } {
  const at = spec.lastIndexOf('@');
  const repo = at > 0 ? spec.slice(0, at) : spec;
  const revision = at > 0 ? spec.slice(at + 1) : 'main';
  if (!/^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/.test(repo) || revision === '') {
    throw new Error(
      `invalid repo ${JSON.stringify(spec)}: expected <org>/<name>[@revision], e.g. HuggingFaceTB/SmolLM2-135M-Instruct`,
    );
  }
  return { repo, revision };
}

/** `a/b c` → `a/b%20c`: each path segment escaped, slashes kept (the hub's URLs take paths verbatim). */
export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

function offlineMessage(endpoint: string, code: string): string {
  return [
    `cannot reach the model hub at ${endpoint} (${code}).`,
    'To install models without this hub, either:',
    '  - set HF_ENDPOINT to a reachable mirror of the Hugging Face hub and pull again, or',
    '  - on a machine with access run `huggingface-cli download <repo> --local-dir <dir>`, copy <dir> here and run',
    '    `atelier models add <dir>` (a GGUF file works too: `atelier models add model.gguf`).',
  ].join('\n');
}

/** Body cap for the hub's JSON answers (revision, tree pages), in bytes. */
const maxApiAnswerBytes = 64 * 1024 * 1024;
/** Silence after which a hub transfer counts as dropped (and is resumed), in milliseconds. */
const hubIdleTimeoutMs = 60_000;

/**
 * Fetches through the outbound policy (src/util/outbound): public addresses plus the configured endpoint's host,
 * which may be a mirror on the operator's own network; every redirect (the hub sends files to its CDN) is re-checked
 * and at most 3 are followed; no overall time limit (model files are gigabytes) but 60 s of silence ends a transfer.
 * The token goes to the endpoint's origin only. Network failures become HubOfflineError; a refused address or
 * redirect, or a body over `maxBytes`, stays an OutboundError.
 */
export async function hubFetch(
  options: HubOptions,
  url: string,
  headers: Record<string, string> = {},
  maxBytes = maxApiAnswerBytes,
): Promise<Response> {
  const sameOrigin = new URL(url).origin === new URL(options.endpoint).origin;
  const all = { ...headers, ...(options.token && sameOrigin ? { authorization: `Bearer ${options.token}` } : {}) };
  const policy = createAddressPolicy({ allow: [new URL(options.endpoint).hostname] });
  try {
    return await outboundFetch(url, { policy, headers: all, maxBytes, timeoutMs: 0, idleTimeoutMs: hubIdleTimeoutMs });
  } catch (error) {
    // Only when no HTTP answer came at all (DNS, refused, reset, silence) is the hub unreachable.
    if (!(error instanceof OutboundError) || (error.reason !== 'network' && error.reason !== 'timeout')) throw error;
    throw new HubOfflineError(offlineMessage(options.endpoint, error.code ?? error.message), { cause: error });
  }
}

/** Turns a non-2xx hub answer into a HubHttpError that says what to do. */
export async function hubHttpError(response: Response, what: string, hasToken: boolean): Promise<HubHttpError> {
  const detail = (await response.text().catch(() => '')).slice(0, 200);
  const hint =
    response.status === 401 || response.status === 403
      ? hasToken
        ? ' — HF_TOKEN was sent but has no access (accept the model licence on the hub, or check the token)'
        : ' — the repo may be gated or private: set HF_TOKEN to a token with access'
      : response.status === 404
        ? ' — check the repo name and revision'
        : '';
  return new HubHttpError(`${what}: HTTP ${response.status}${hint}${detail ? ` (${detail})` : ''}`, response.status);
}

/** Resolves a branch/tag/sha to the commit sha, so every file is fetched from the same commit. */
export async function resolveRevision(options: HubOptions, repo: string, revision: string): Promise<string> {
  const url = `${options.endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}`;
  const response = await hubFetch(options, url);
  if (!response.ok) throw await hubHttpError(response, `${repo}@${revision}`, Boolean(options.token));
  const body = (await response.json()) as { sha?: unknown };
  if (typeof body.sha !== 'string' || !/^[0-9a-f]{40}$/.test(body.sha)) {
    throw new HubHttpError(`${repo}@${revision}: the hub's revision answer has no commit sha`, response.status);
  }
  return body.sha;
}

interface TreeEntry {
  type: string;
  path: string;
  size: number;
  oid: string;
  lfs?: { oid: string; size: number };
}

/** Every file of a repo at a commit (tree API, recursive), following `Link: <…>; rel="next"` pagination. */
export async function listFiles(options: HubOptions, repo: string, sha: string): Promise<HubFile[]> {
  const files: HubFile[] = [];
  let url: string | undefined = `${options.endpoint}/api/models/${repo}/tree/${sha}?recursive=true`;
  while (url) {
    const response = await hubFetch(options, url);
    if (!response.ok) throw await hubHttpError(response, `listing ${repo}@${sha}`, Boolean(options.token));
    for (const entry of (await response.json()) as TreeEntry[]) {
      if (entry.type !== 'file') continue;
      files.push({
        path: entry.path,
        size: entry.lfs?.size ?? entry.size,
        oid: entry.oid,
        ...(entry.lfs ? { sha256: entry.lfs.oid } : {}),
      });
    }
    const next = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
    url = next ? new URL(next, options.endpoint).toString() : undefined;
  }
  return files;
}

/** URL of a file's content at a commit. */
export function resolveUrl(options: HubOptions, repo: string, sha: string, path: string): string {
  return `${options.endpoint}/${repo}/resolve/${sha}/${encodePath(path)}`;
}
