import { randomBytes } from 'node:crypto';
import type { PullReporter } from '../../models/index.js';

/** One file of a pull as `model.pull` shows it. */
export interface PullFileWire {
  path: string;
  total_bytes: number;
  done_bytes: number;
  done: boolean;
}

/** The `model.pull` object (an atelier extension): a hub pull started through the API, with its progress. */
export interface ModelPullWire {
  id: string;
  object: 'model.pull';
  /** What was asked for: `org/repo[@revision]`. */
  repo: string;
  /** The name the model installs under. */
  name: string;
  status: 'running' | 'succeeded' | 'failed';
  files: PullFileWire[];
  files_total: number | null;
  files_done: number;
  bytes_total: number | null;
  bytes_done: number;
  /** Seconds left at the pull's pace so far; null until there is a pace to go by. */
  eta_seconds: number | null;
  /** Retries, "already installed" and the like, oldest first. */
  notes: string[];
  error: { message: string; code: string } | null;
  created_at: number;
  finished_at: number | null;
}

const seconds = (): number => Math.floor(Date.now() / 1000);

/**
 * One pull's progress as a PullReporter fills it. Bytes already on disk from an earlier, interrupted pull count as
 * done but not towards the pace, so a resume does not promise an ETA it cannot keep.
 */
export class PullJob implements PullReporter {
  readonly id = `pull_${randomBytes(12).toString('hex')}`;
  private readonly wire: ModelPullWire;
  private readonly startedMs = Date.now();
  private resumedBytes = 0;

  constructor(repo: string, name: string) {
    this.wire = {
      id: this.id,
      object: 'model.pull',
      repo,
      name,
      status: 'running',
      files: [],
      files_total: null,
      files_done: 0,
      bytes_total: null,
      bytes_done: 0,
      eta_seconds: null,
      notes: [],
      error: null,
      created_at: seconds(),
      finished_at: null,
    };
  }

  /** A copy of the current state (so a response is not changed under the serializer). */
  snapshot(): ModelPullWire {
    const files = this.wire.files.map((file) => ({ ...file }));
    const bytesDone = files.reduce((sum, file) => sum + file.done_bytes, 0);
    return {
      ...this.wire,
      files,
      notes: [...this.wire.notes],
      bytes_done: bytesDone,
      eta_seconds: this.eta(bytesDone),
    };
  }

  plan(files: readonly { path: string; size: number }[]): void {
    this.wire.files = files.map((file) => ({ path: file.path, total_bytes: file.size, done_bytes: 0, done: false }));
    this.wire.files_total = files.length;
    this.wire.bytes_total = files.reduce((sum, file) => sum + file.size, 0);
  }

  fileStart(path: string, totalBytes: number, resumedFrom: number): void {
    const file = this.file(path, totalBytes);
    file.done_bytes = resumedFrom;
    this.resumedBytes += resumedFrom;
  }

  fileProgress(path: string, bytesDone: number): void {
    this.file(path).done_bytes = bytesDone;
  }

  fileDone(path: string): void {
    const file = this.file(path);
    file.done_bytes = file.total_bytes;
    if (!file.done) this.wire.files_done += 1;
    file.done = true;
  }

  note(message: string): void {
    this.wire.notes.push(message);
  }

  /** The pull ended: installed, or failed with `message` (already scrubbed of server paths). */
  finish(error?: { message: string; code: string }): void {
    this.wire.status = error ? 'failed' : 'succeeded';
    this.wire.error = error ?? null;
    this.wire.finished_at = seconds();
  }

  private file(path: string, totalBytes = 0): PullFileWire {
    let file = this.wire.files.find((f) => f.path === path);
    if (!file) {
      file = { path, total_bytes: totalBytes, done_bytes: 0, done: false };
      this.wire.files.push(file);
    }
    return file;
  }

  private eta(bytesDone: number): number | null {
    const total = this.wire.bytes_total;
    const fetched = bytesDone - this.resumedBytes;
    const elapsed = (Date.now() - this.startedMs) / 1000;
    if (this.wire.status !== 'running' || total === null || fetched <= 0 || elapsed < 0.5) return null;
    return Math.ceil((total - bytesDone) / (fetched / elapsed));
  }
}
