import cliProgress from 'cli-progress';
import type { PullReporter } from '../models/index.js';
import { formatBytes } from '../util/index.js';

/**
 * Draws one progress bar per file on stderr while pulling (cli-progress). When stderr is not a terminal (CI, logs)
 * bars are not drawn; each finished file and every note is printed as a line instead.
 */
export class ProgressBarReporter implements PullReporter {
  private readonly bars = new Map<string, cliProgress.SingleBar>();
  private readonly multi: cliProgress.MultiBar;
  private readonly tty: boolean;
  private stopped = false;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = Boolean(stream.isTTY);
    this.multi = new cliProgress.MultiBar(
      {
        stream,
        hideCursor: true,
        clearOnComplete: false,
        format: (options, params, payload: { file: string }) => {
          const width = options.barsize ?? 30;
          const filled = Math.round(params.progress * width);
          const bar = '█'.repeat(filled) + '░'.repeat(Math.max(0, width - filled));
          return `${payload.file.padEnd(36).slice(0, 36)} ${bar} ${formatBytes(params.value).padStart(10)} / ${formatBytes(params.total)}`;
        },
      },
      cliProgress.Presets.shades_classic,
    );
  }

  fileStart(path: string, totalBytes: number, resumedFrom: number): void {
    // Without a terminal cli-progress draws nothing but would still render never-started bars on stop().
    if (!this.tty) return;
    const existing = this.bars.get(path);
    if (existing) existing.update(resumedFrom);
    else this.bars.set(path, this.multi.create(Math.max(totalBytes, 1), resumedFrom, { file: path }));
  }

  fileProgress(path: string, bytesDone: number): void {
    this.bars.get(path)?.update(bytesDone);
  }

  fileDone(path: string): void {
    const bar = this.bars.get(path);
    bar?.update(bar.getTotal());
    if (!this.tty) this.stream.write(`downloaded ${path}\n`);
  }

  note(message: string): void {
    if (this.tty) this.multi.log(`${message}\n`);
    else this.stream.write(`${message}\n`);
  }

  /** Stops drawing; call once the pull ends, successfully or not. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.tty) this.multi.stop();
  }
}
