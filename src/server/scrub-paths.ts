import { realpathSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import type { OpenAIErrorBody } from '../protocol/index.js';

// Top-level folders of the usual Unix layouts: a path under one of them names a server file, never an API route.
const systemRoots = [
  '/home',
  '/root',
  '/tmp',
  '/var',
  '/usr',
  '/opt',
  '/etc',
  '/srv',
  '/mnt',
  '/media',
  '/run',
  '/proc',
  '/lib',
  '/lib64',
  '/bin',
  '/sbin',
  '/nix',
  '/snap',
  '/private',
  '/Users',
  '/Volumes',
  '/workspace',
  '/app',
  '/data',
];

// An absolute path starts after a quote, bracket, space, `=` or the start: never inside a URL (`http://h/x`).
const absolutePath = /(?<![\w.:/\\~%-])(?:[A-Za-z]:\\|\/)[^\s'"`<>|]*/g;
const maxDepth = 32;

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The last non-empty segment of a path, or '…' for a root. */
function lastSegment(path: string): string {
  const parts = path.split(/[\\/]+/).filter(Boolean);
  return parts.length > (/^[A-Za-z]:/.test(path) ? 1 : 0) ? parts[parts.length - 1]! : '…';
}

/**
 * Removes server file-system paths from text sent to clients: every absolute path under a known server folder
 * (ATELIER_HOME, the user's home, the temp folder, the working directory, the usual system roots, Windows drives)
 * becomes its last segment, so `/home/op/.atelier/tmp/ftjob-1/subject/p0.png: not an image` reads `p0.png: not an
 * image` — the client's own file name, and no directory. Applied once, at the API edge (error bodies, job errors and
 * events), so whatever a worker or library writes into a message cannot leak the layout.
 */
export class PathScrubber {
  private readonly rootPattern: RegExp;

  /** `roots`: extra folders to hide (ATELIER_HOME); the user's home, temp and working folders are always hidden. */
  constructor(roots: readonly string[] = []) {
    const all = new Set<string>(systemRoots);
    for (const root of [...roots, homedir(), tmpdir(), process.cwd()]) {
      all.add(root.replace(/\/+$/, ''));
      try {
        all.add(realpathSync(root));
      } catch {
        // A folder that does not exist yet cannot appear in a message as its real path either.
      }
    }
    const alternatives = [...all]
      .filter((root) => root.length > 1)
      .sort((a, b) => b.length - a.length)
      .map(escape);
    this.rootPattern = new RegExp(`^(?:[A-Za-z]:\\\\|(?:${alternatives.join('|')})(?:/|$))`);
  }

  /** `text` with server paths reduced to their last segment. */
  text(text: string): string {
    return text.replace(absolutePath, (path) => (this.rootPattern.test(path) ? lastSegment(path) : path));
  }

  /** Every string inside a JSON value scrubbed (objects and arrays deeper than 32 levels are dropped). */
  json<T>(value: T, depth = 0): T {
    if (typeof value === 'string') return this.text(value) as T;
    if (typeof value !== 'object' || value === null) return value;
    if (depth >= maxDepth) return null as T;
    if (Array.isArray(value)) return value.map((item: unknown) => this.json(item, depth + 1)) as T;
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, this.json(item, depth + 1)])) as T;
  }

  /** An OpenAI error body with its message scrubbed. */
  body(body: OpenAIErrorBody): OpenAIErrorBody {
    return { error: { ...body.error, message: this.text(body.error.message) } };
  }
}
