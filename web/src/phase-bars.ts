import { el } from './dom.js';
import type { JobEvent } from './job-events.js';
import type { Job } from './jobs.js';

/** One long phase of a job as its events tell it. */
export interface Phase {
  /** `class_images`, `train`, `sample`. */
  id: string;
  label: string;
  step: number;
  total: number;
  /** Seconds left, when known. */
  eta: number | null;
  /** Extra words (`cached`, `loss 0.1234`). */
  note: string;
}

const labels: Record<string, string> = {
  class_images: 'Class images',
  train: 'Training',
  sample: 'Validation samples',
};

/** Seconds as `1h02m`, `3m05s` or `12s` (as the CLI writes them). */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

/**
 * The phases of a job from its events (newest first): progress events of stages (`data.stage`, `step`, `total`,
 * `eta_seconds`), "class images ready" (`count`, `cache_hit`), and training's metrics events (`step`,
 * `total_steps`, `train_loss`) with the job's `estimated_finish`. Ordered as they ran.
 */
export function jobPhases(job: Job, events: readonly JobEvent[]): Phase[] {
  const phases = new Map<string, Phase>();
  const finished = job.status === 'succeeded';
  for (const event of [...events].reverse()) {
    const data = event.data ?? {};
    const stage = typeof data.stage === 'string' ? data.stage : null;
    if (event.type === 'metrics' && num(data.step) !== null) {
      const total = num(data.total_steps) ?? phases.get('train')?.total ?? 0;
      const loss = num(data.train_loss);
      phases.set('train', {
        id: 'train',
        label: labels.train!,
        step: num(data.step)!,
        total,
        eta: null,
        note: loss === null ? '' : `loss ${loss.toFixed(4)}`,
      });
    } else if (stage && num(data.total) !== null) {
      phases.set(stage, {
        id: stage,
        label: labels[stage] ?? stage,
        step: num(data.step) ?? 0,
        total: num(data.total)!,
        eta: num(data.eta_seconds),
        note: '',
      });
    } else if (num(data.count) !== null && typeof data.cache_hit === 'boolean') {
      const count = num(data.count)!;
      phases.set('class_images', {
        id: 'class_images',
        label: labels.class_images!,
        step: count,
        total: count,
        eta: 0,
        note: data.cache_hit ? 'from the cache' : `${String(data.generated)} generated`,
      });
    }
  }
  const train = phases.get('train');
  if (train && job.estimated_finish && job.status === 'running')
    train.eta = Math.max(0, job.estimated_finish - Date.now() / 1000);
  if (train && finished) train.step = train.total;
  return [...phases.values()];
}

/** A bar per phase: label, `<progress>`, counts and ETA. */
export function phaseBars(phases: readonly Phase[]): HTMLElement {
  return el(
    'div',
    { class: 'phases', id: 'job-phases' },
    ...phases.map((phase) => {
      const words = [
        `${phase.step}/${phase.total}`,
        phase.note,
        phase.eta !== null && phase.step < phase.total ? `ETA ${duration(phase.eta)}` : '',
      ]
        .filter(Boolean)
        .join(' · ');
      const id = `phase-${phase.id}`;
      return el(
        'div',
        { class: 'phase', 'data-phase': phase.id },
        el('span', { class: 'phase-label', id, text: phase.label }),
        el('progress', {
          max: Math.max(1, phase.total),
          value: phase.step,
          'aria-labelledby': id,
          'aria-valuetext': words,
        }),
        el('span', { class: 'phase-words', text: words }),
      );
    }),
  );
}

/** Seconds per class image measured from a job's class-image progress events, or null when they do not tell. */
export function secondsPerClassImage(events: readonly JobEvent[]): number | null {
  const points = events.filter(
    (event) => event.data?.stage === 'class_images' && num(event.data.step) !== null && num(event.data.step)! > 0,
  );
  if (points.length < 2) return null;
  const newest = points[0]!;
  const oldest = points[points.length - 1]!;
  const images = Number(newest.data.step) - Number(oldest.data.step);
  const seconds = newest.created_at - oldest.created_at;
  return images > 0 && seconds > 0 ? seconds / images : null;
}

const svgNs = 'http://www.w3.org/2000/svg';

/** A small line chart of the training loss per step (metrics events), or null before two steps. */
export function lossChart(events: readonly JobEvent[]): SVGSVGElement | null {
  const points = events
    .filter((e) => e.type === 'metrics' && num(e.data?.train_loss) !== null && num(e.data?.step) !== null)
    .map((e) => [Number(e.data.step), Number(e.data.train_loss)] as const)
    .sort((a, b) => a[0] - b[0]);
  if (points.length < 2) return null;
  const [width, height] = [300, 60];
  const steps = points.map(([step]) => step);
  const losses = points.map(([, loss]) => loss);
  const [x0, x1, y0, y1] = [Math.min(...steps), Math.max(...steps), Math.min(...losses), Math.max(...losses)];
  const x = (step: number): number => ((step - x0) / Math.max(1, x1 - x0)) * (width - 4) + 2;
  const y = (loss: number): number => height - 2 - ((loss - y0) / Math.max(1e-9, y1 - y0)) * (height - 4);
  const svg = document.createElementNS(svgNs, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('class', 'loss-chart');
  svg.setAttribute('role', 'img');
  svg.setAttribute(
    'aria-label',
    `training loss from ${losses[0]!.toFixed(4)} to ${losses[losses.length - 1]!.toFixed(4)} over ${points.length} steps`,
  );
  const line = document.createElementNS(svgNs, 'polyline');
  line.setAttribute('points', points.map(([step, loss]) => `${x(step).toFixed(1)},${y(loss).toFixed(1)}`).join(' '));
  svg.append(line);
  return svg;
}
