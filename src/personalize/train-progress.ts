import cliProgress from 'cli-progress';
import type { WorkerEvent } from '../worker/index.js';
import { StageEta } from './stage-eta.js';

/** Where progress goes. */
export interface TrainProgressOptions {
  /** Writes plain text (lines end in `\n`). */
  write: (text: string) => void;
  /** A terminal to draw redrawing bars on; without one (logs, CI, tests) milestones come out as plain lines. */
  tty?: NodeJS.WriteStream | null;
}

/** Seconds as `1h02m`, `3m05s` or `12s`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

const labels: Record<string, string> = { class_images: 'class images', train: 'training' };

/**
 * Renders a training job's worker events for people: a bar per stage (class-image generation, training steps with
 * loss, speed and ETA), and a line per checkpoint save, warning or sample above the bars. On a non-TTY (logs, CI)
 * the same milestones come out as plain lines, with a step line at most every 5 % of the run.
 */
export class TrainProgress {
  private readonly write: (text: string) => void;
  private readonly multibar: cliProgress.MultiBar | null;
  private readonly bars = new Map<string, cliProgress.SingleBar>();
  private loss: number | null = null;
  private checkpoints = 0;
  private lastPlainStep = -1;
  // Class-image generation sends no ETA of its own: it is measured here.
  private readonly eta = new StageEta();

  constructor(options: TrainProgressOptions) {
    this.write = options.write;
    this.multibar = options.tty?.isTTY
      ? new cliProgress.MultiBar(
          {
            stream: options.tty,
            format: '{label} |{bar}| {value}/{total} {info}',
            barsize: 30,
            hideCursor: true,
            clearOnComplete: false,
            autopadding: true,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
  }

  /** Prints a line above the bars (or plainly). */
  line(text: string): void {
    if (this.multibar) this.multibar.log(`${text}\n`);
    else this.write(`${text}\n`);
  }

  /** Updates the display for one worker event. */
  update(event: WorkerEvent): void {
    switch (event.type) {
      case 'progress':
        this.progress(event.stage, event.step, event.total, event.etaSeconds, event.data.steps_per_s);
        return;
      case 'metric':
        if (event.values.loss !== undefined) this.loss = event.values.loss;
        return;
      case 'checkpoint':
        this.checkpoints += 1;
        this.line(`checkpoint saved at step ${event.step}: ${event.path}`);
        return;
      case 'class_images':
        this.line(`class images ready: ${event.count} (${event.cacheHit ? 'cached' : `${event.generated} generated`})`);
        return;
      case 'sample':
        this.line(`sample at step ${event.step}: ${event.path}`);
        return;
      case 'log':
        if (event.level === 'warning' || event.level === 'error') this.line(`${event.level}: ${event.message}`);
        return;
      case 'result':
      case 'error':
        return;
    }
  }

  /** Stops redrawing (leaves the last frame on screen). Call before printing the result. */
  stop(): void {
    this.multibar?.stop();
  }

  private info(stage: string, eta: number | null, rate: unknown): string {
    const parts: string[] = [];
    if (stage === 'train' && this.loss !== null) parts.push(`loss ${this.loss.toFixed(4)}`);
    if (typeof rate === 'number' && rate > 0)
      parts.push(rate >= 1 ? `${rate.toFixed(2)} step/s` : `${(1 / rate).toFixed(1)} s/step`);
    if (eta !== null) parts.push(`ETA ${formatDuration(eta)}`);
    if (stage === 'train' && this.checkpoints > 0) parts.push(`${this.checkpoints} ckpt`);
    return parts.join(' · ');
  }

  private progress(stage: string, step: number, total: number, workerEta: number | null, rate: unknown): void {
    const eta = this.eta.update(stage, step, total, workerEta);
    const label = (labels[stage] ?? stage).padEnd(12);
    const info = this.info(stage, eta, rate);
    if (this.multibar) {
      const bar = this.bars.get(stage);
      if (bar) bar.update(step, { label, info });
      else this.bars.set(stage, this.multibar.create(total, step, { label, info }));
      return;
    }
    const every = Math.max(1, Math.floor(total / 20));
    if (step === total || step - this.lastPlainStep >= every || this.lastPlainStep < 0) {
      this.lastPlainStep = step === total ? -1 : step;
      this.line(`${label.trimEnd()} ${step}/${total}${info ? ` ${info}` : ''}`);
    }
  }
}
