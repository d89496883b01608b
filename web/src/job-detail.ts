import { apiFetch, describeError, postJson, sendJson } from './api.js';
import { alertBox, el } from './dom.js';
import { EventLog, type JobEvent } from './job-events.js';
import { createJobSamples } from './job-samples.js';
import {
  getJob,
  isActive,
  jobName,
  jobRequest,
  listCheckpoints,
  subjectPrompt,
  when,
  type Checkpoint,
  type Job,
} from './jobs.js';
import { jobPhases, lossChart, phaseBars, secondsPerClassImage } from './phase-bars.js';

/** What the detail view can ask of the rest of the studio. */
export interface JobDetailActions {
  /** The job changed status (cancelled, finished, a retry created): the list should show it. */
  changed(select?: string): void;
  /** "Generate with this model" (or a checkpoint): open the Images tab on `model` with the subject's prompt. */
  generate(model: string, prompt: string): void;
  /** "Clone": refill the form with this job's settings. */
  clone(job: Job): void;
  /** Class images were timed on this server: seconds per image. */
  measured(secondsPerImage: number): void;
  /** The job was deleted: nothing is selected any more. */
  deleted(id: string): void;
}

/** One job's live view. `show(id)` switches to a job; `stop()` ends polling (tab hidden). */
export interface JobDetail {
  root: HTMLElement;
  show(id: string): void;
  stop(): void;
}

const pollMs = 1500;

function eventRow(event: JobEvent): HTMLLIElement {
  return el(
    'li',
    { class: `event ${event.level}` },
    el('time', { text: new Date(event.created_at * 1000).toLocaleTimeString() }),
    ' ',
    el('span', { text: event.message }),
  );
}

function summary(job: Job): HTMLElement {
  const hp = job.method.dreambooth?.hyperparameters ?? {};
  const rows: [string, string][] = [
    ['Status', job.status],
    ['Job', job.id],
    ['Base model', job.model],
    ['Fine-tuned model', job.fine_tuned_model ?? '—'],
    ['Subject', `${String(hp.identifier ?? 'sks')} ${String(hp.class_name ?? '')} · ${String(hp.mode ?? 'lora')}`],
    ['Created', when(job.created_at)],
    ['Finished', when(job.finished_at)],
  ];
  if (job.estimated_finish) rows.push(['Estimated finish', when(job.estimated_finish)]);
  if (job.error) rows.push(['Error', `${job.error.code}: ${job.error.message}`]);
  return el(
    'dl',
    { class: 'job-summary', id: 'job-summary', 'data-status': job.status },
    ...rows.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })]),
  );
}

/** The subject photos the job trains on (a zip shows as its id). */
function photos(job: Job): HTMLElement {
  const ids = [job.training_file, ...(job.method.dreambooth?.instance_files ?? [])];
  const strip = el('div', {
    class: 'thumbs',
    id: 'job-photos',
    role: 'group',
    'aria-label': 'Photos this job trains on',
  });
  for (const id of ids) {
    void apiFetch(`/v1/files/${encodeURIComponent(id)}/content`).then(
      async (response) => {
        const img = el('img', {
          src: URL.createObjectURL(await response.blob()),
          alt: 'subject photo',
          class: 'thumb-image',
        });
        // Files come as octet-stream; the browser sniffs images, and what is not one (a zip) shows as a name.
        img.addEventListener('error', () =>
          img.replaceWith(el('span', { class: 'muted', text: `${id} (a zip of photos)` })),
        );
        strip.append(img);
      },
      () => strip.append(el('span', { class: 'muted', text: `${id} (deleted)` })),
    );
  }
  return strip;
}

/**
 * A job's status, a bar per long phase (class images, training, samples) with counts and ETA, the validation
 * samples drawn so far, its photos,
 * checkpoints (each usable as a model) and events, polled every 1.5 s while the job can still change; Cancel (after
 * a confirmation) while it runs, Retry once it failed or was cancelled, Clone always, Delete (after a confirmation;
 * the fine-tuned model stays) once it finished, "Generate with this model" once it succeeded. Nothing but a hint shows before a job is picked.
 */
export function createJobDetail(actions: JobDetailActions): JobDetail {
  let jobId: string | null = null;
  let log: EventLog | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lastStatus: string | null = null;
  let shownPhotos: string | null = null;
  const head = el('div', { class: 'job-head' });
  const bars = el('div', { class: 'job-phases' });
  const photoSlot = el('div');
  const samples = createJobSamples();
  const buttons = el('div', { class: 'buttons' });
  const checkpoints = el('tbody');
  const events = el('ol', { class: 'events', id: 'job-events' });
  const error = alertBox();
  const older = el(
    'button',
    {
      type: 'button',
      hidden: true,
      onclick: () => void log?.loadOlder().then(renderEvents, (failure: unknown) => error.show(describeError(failure))),
    },
    'Load older events',
  );
  const hint = el('p', { class: 'muted', text: 'Select a job to see its progress.' });
  const body = el(
    'div',
    { hidden: true },
    head,
    bars,
    samples.root,
    photoSlot,
    error.root,
    buttons,
    el('h4', { text: 'Checkpoints' }),
    el(
      'table',
      { id: 'job-checkpoints' },
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', { text: 'Step' }),
          el('th', { text: 'Loss' }),
          el('th', { text: 'Model name' }),
          el('th', { text: '' }),
        ),
      ),
      checkpoints,
    ),
    el('h4', { text: 'Events' }),
    events,
    older,
  );
  const renderEvents = (): void => {
    events.replaceChildren(...(log?.events ?? []).map(eventRow));
    older.hidden = !log?.hasOlder;
  };
  const checkpointRow = (job: Job, checkpoint: Checkpoint): HTMLTableRowElement => {
    const loss = checkpoint.metrics.train_loss;
    return el(
      'tr',
      {},
      el('td', { text: String(checkpoint.step_number) }),
      el('td', { text: loss === undefined ? '—' : loss.toFixed(4) }),
      el('td', {}, el('code', { text: checkpoint.fine_tuned_model_checkpoint })),
      el(
        'td',
        {},
        el(
          'button',
          {
            type: 'button',
            class: 'small',
            onclick: () => actions.generate(checkpoint.fine_tuned_model_checkpoint, subjectPrompt(job)),
          },
          'Generate',
        ),
      ),
    );
  };
  const renderJob = (job: Job): void => {
    head.replaceChildren(el('h3', { text: jobName(job), 'data-job': job.id }), summary(job));
    bars.replaceChildren(phaseBars(jobPhases(job, log?.events ?? [])), lossChart(log?.events ?? []) ?? '');
    const measured = secondsPerClassImage(log?.events ?? []);
    if (measured !== null) actions.measured(measured);
    if (shownPhotos !== job.id) {
      shownPhotos = job.id;
      photoSlot.replaceChildren(photos(job));
    }
    const button = (label: string, run: () => void, primary = false): HTMLButtonElement =>
      el('button', { type: 'button', class: primary ? 'primary' : undefined, onclick: run }, label);
    buttons.replaceChildren(
      ...(isActive(job) ? [button('Cancel job', () => void cancelJob(job))] : []),
      ...(job.status === 'failed' || job.status === 'cancelled' ? [button('Retry', () => void retry(job))] : []),
      button('Clone into the form', () => actions.clone(job)),
      ...(isActive(job) ? [] : [button('Delete job', () => void deleteJob(job))]),
      ...(job.status === 'succeeded' && job.fine_tuned_model
        ? [
            button(
              'Generate with this model',
              () => actions.generate(job.fine_tuned_model ?? '', subjectPrompt(job)),
              true,
            ),
          ]
        : []),
    );
  };
  const refresh = async (id: string): Promise<void> => {
    const [job, , kept] = await Promise.all([getJob(id), log?.pollNewer(), listCheckpoints(id), samples.update(id)]);
    if (id !== jobId) return;
    renderJob(job);
    renderEvents();
    checkpoints.replaceChildren(...kept.map((checkpoint) => checkpointRow(job, checkpoint)));
    if (kept.length === 0)
      checkpoints.append(el('tr', {}, el('td', { colspan: 4, class: 'muted', text: 'No checkpoint yet.' })));
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
  const cancelJob = async (job: Job): Promise<void> => {
    if (!confirm(`Cancel the job "${jobName(job)}"? Its progress so far is lost (saved checkpoints stay).`)) return;
    try {
      await postJson(`/v1/fine_tuning/jobs/${encodeURIComponent(job.id)}/cancel`);
    } catch (failure) {
      error.show(describeError(failure));
    }
    clearTimeout(timer);
    await poll(job.id);
  };
  const deleteJob = async (job: Job): Promise<void> => {
    const model = job.fine_tuned_model ? ` Its model ${job.fine_tuned_model} stays installed.` : '';
    if (!confirm(`Delete the job "${jobName(job)}" with its events and checkpoint list?${model}`)) return;
    try {
      await sendJson('DELETE', `/v1/fine_tuning/jobs/${encodeURIComponent(job.id)}`);
    } catch (failure) {
      error.show(describeError(failure));
      return;
    }
    clearTimeout(timer);
    jobId = null;
    hint.hidden = false;
    body.hidden = true;
    actions.deleted(job.id);
  };
  const retry = async (job: Job): Promise<void> => {
    if (!confirm(`Start the job "${jobName(job)}" again with the same photos and settings?`)) return;
    try {
      const created = await postJson<Job>('/v1/fine_tuning/jobs', jobRequest(job));
      actions.changed(created.id);
    } catch (failure) {
      error.show(describeError(failure));
    }
  };
  return {
    root: el('div', { class: 'job-detail', id: 'job-detail' }, hint, body),
    show: (id) => {
      clearTimeout(timer);
      hint.hidden = true;
      body.hidden = false;
      jobId = id;
      lastStatus = null;
      log = new EventLog(id);
      void poll(id);
    },
    stop: () => clearTimeout(timer),
  };
}
