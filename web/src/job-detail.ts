import { describeError, postJson } from './api.js';
import { alertBox, el } from './dom.js';
import { EventLog, type JobEvent } from './job-events.js';
import { getJob, isActive, listCheckpoints, subjectPrompt, when, type Checkpoint, type Job } from './jobs.js';

/** What the detail view can ask of the rest of the studio. */
export interface JobDetailActions {
  /** The job changed status (cancelled, finished): the list should show it. */
  changed(): void;
  /** "Generate with this model": open the Images tab on `model` with the subject's prompt. */
  generate(model: string, prompt: string): void;
}

/** One job's live view. `show(id)` switches to a job; `stop()` ends polling (tab hidden). */
export interface JobDetail {
  root: HTMLElement;
  show(id: string): void;
  stop(): void;
}

const pollMs = 1500;

function eventRow(event: JobEvent): HTMLLIElement {
  return el('li', { class: `event ${event.level}` },
    el('time', { text: new Date(event.created_at * 1000).toLocaleTimeString() }), ' ', el('span', { text: event.message }));
}

function checkpointRow(checkpoint: Checkpoint): HTMLTableRowElement {
  const loss = checkpoint.metrics.train_loss;
  return el('tr', {}, el('td', { text: String(checkpoint.step_number) }), el('td', { text: loss === undefined ? '—' : loss.toFixed(4) }),
    el('td', {}, el('code', { text: checkpoint.fine_tuned_model_checkpoint })));
}

function summary(job: Job, metrics: Record<string, unknown> | null): HTMLElement {
  const hp = job.method.dreambooth?.hyperparameters ?? {};
  const rows: [string, string][] = [
    ['Status', job.status], ['Base model', job.model], ['Fine-tuned model', job.fine_tuned_model ?? '—'],
    ['Subject', `${String(hp.identifier ?? 'sks')} ${String(hp.class_name ?? '')} · ${String(hp.mode ?? 'lora')}`],
    ['Created', when(job.created_at)], ['Finished', when(job.finished_at)],
  ];
  if (job.estimated_finish) rows.push(['Estimated finish', when(job.estimated_finish)]);
  if (metrics) rows.push(['Step', `${String(metrics.step)} / ${String(metrics.total_steps)} · loss ${Number(metrics.train_loss).toFixed(4)}`]);
  if (job.error) rows.push(['Error', `${job.error.code}: ${job.error.message}`]);
  return el('dl', { class: 'job-summary', id: 'job-summary', 'data-status': job.status }, ...rows.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })]));
}

/**
 * A job's status, progress, checkpoints and events, polled every 1.5 s while the job can still change; Cancel while
 * it runs, "Generate with this model" once it succeeded.
 */
export function createJobDetail(actions: JobDetailActions): JobDetail {
  let jobId: string | null = null;
  let log: EventLog | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lastStatus: string | null = null;
  const head = el('div', { class: 'job-head' });
  const buttons = el('div', { class: 'buttons' });
  const checkpoints = el('tbody');
  const events = el('ol', { class: 'events', id: 'job-events' });
  const error = alertBox();
  const older = el('button', {
    type: 'button', hidden: true,
    onclick: () => void log?.loadOlder().then(renderEvents, (failure: unknown) => error.show(describeError(failure))),
  }, 'Load older events');
  const renderEvents = (): void => {
    events.replaceChildren(...(log?.events ?? []).map(eventRow));
    older.hidden = !log?.hasOlder;
  };
  const renderJob = (job: Job): void => {
    head.replaceChildren(el('h3', { text: job.id }), summary(job, log?.latestMetrics() ?? null));
    const cancel = el('button', { type: 'button', onclick: () => void cancelJob(job.id) }, 'Cancel job');
    const generate = el('button', { type: 'button', class: 'primary', onclick: () => actions.generate(job.fine_tuned_model ?? '', subjectPrompt(job)) }, 'Generate with this model');
    buttons.replaceChildren(...(isActive(job) ? [cancel] : []), ...(job.status === 'succeeded' && job.fine_tuned_model ? [generate] : []));
  };
  const refresh = async (id: string): Promise<void> => {
    const [job, , kept] = await Promise.all([getJob(id), log?.pollNewer(), listCheckpoints(id)]);
    if (id !== jobId) return;
    renderJob(job);
    renderEvents();
    checkpoints.replaceChildren(...kept.map(checkpointRow));
    if (lastStatus !== null && lastStatus !== job.status) actions.changed();
    lastStatus = job.status;
    clearTimeout(timer);
    if (isActive(job)) timer = setTimeout(() => void poll(id), pollMs);
  };
  const poll = async (id: string): Promise<void> => {
    try {
      await refresh(id);
      error.clear();
    } catch (failure) {
      error.show(describeError(failure));
      clearTimeout(timer);
      if (id === jobId) timer = setTimeout(() => void poll(id), pollMs * 2);
    }
  };
  const cancelJob = async (id: string): Promise<void> => {
    try {
      await postJson(`/v1/fine_tuning/jobs/${encodeURIComponent(id)}/cancel`);
    } catch (failure) {
      error.show(describeError(failure));
    }
    clearTimeout(timer);
    await poll(id);
  };
  const root = el('div', { class: 'job-detail', id: 'job-detail' },
    el('p', { class: 'muted', text: 'Select a job to see its progress.' }), head, error.root, buttons,
    el('h4', { text: 'Checkpoints' }), el('table', { id: 'job-checkpoints' }, el('thead', {}, el('tr', {}, el('th', { text: 'Step' }), el('th', { text: 'Loss' }), el('th', { text: 'Name' }))), checkpoints),
    el('h4', { text: 'Events' }), events, older);
  return {
    root,
    show: (id) => {
      clearTimeout(timer);
      root.querySelector('p.muted')?.remove();
      jobId = id;
      lastStatus = null;
      log = new EventLog(id);
      void poll(id);
    },
    stop: () => clearTimeout(timer),
  };
}
