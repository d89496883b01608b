import { describeError } from './api.js';
import { alertBox, el } from './dom.js';
import { jobName, listJobs, when, type Job } from './jobs.js';

/** The list of fine-tuning jobs: newest first, "Load more" following the cursor, one button per job. */
export interface JobsList {
  root: HTMLElement;
  /** Re-reads the newest page, keeping older pages already loaded. */
  refresh(): Promise<void>;
  /** Marks `id` as the job shown in the detail view. */
  select(id: string | null): void;
}

function jobRow(job: Job, selected: boolean, onSelect: (id: string) => void): HTMLLIElement {
  const result = job.fine_tuned_model ? ` → ${job.fine_tuned_model}` : '';
  return el(
    'li',
    { 'data-job': job.id, 'data-status': job.status },
    el(
      'button',
      {
        type: 'button',
        class: selected ? 'job selected' : 'job',
        'aria-pressed': String(selected),
        onclick: () => onSelect(job.id),
      },
      el('span', { class: `status ${job.status}`, text: job.status }),
      el('span', { class: 'job-name', text: jobName(job) }),
      el('small', { text: `${job.id} · ${job.model}${result} · ${when(job.created_at)}` }),
    ),
  );
}

/** Creates the list; `onSelect` receives the id of a clicked job. */
export function createJobsList(onSelect: (id: string) => void): JobsList {
  let jobs: Job[] = [];
  let hasMore = false;
  let selected: string | null = null;
  const items = el('ul', { class: 'jobs', id: 'jobs-list' });
  const error = alertBox();
  const more = el('button', { type: 'button', hidden: true, onclick: () => void loadMore() }, 'Load more');
  const render = (): void => {
    items.replaceChildren(...jobs.map((job) => jobRow(job, job.id === selected, onSelect)));
    if (jobs.length === 0) items.append(el('li', { class: 'muted', text: 'No fine-tuning job yet.' }));
    more.hidden = !hasMore;
  };
  const loadMore = async (): Promise<void> => {
    try {
      const page = await listJobs(jobs[jobs.length - 1]?.id);
      const known = new Set(jobs.map((job) => job.id));
      jobs.push(...page.data.filter((job) => !known.has(job.id)));
      hasMore = page.has_more;
      render();
    } catch (failure) {
      error.show(describeError(failure));
    }
  };
  const refresh = async (): Promise<void> => {
    try {
      const page = await listJobs();
      const fresh = new Set(page.data.map((job) => job.id));
      // Older pages loaded earlier stay; when the first page is all there is, it is the whole list (deleted jobs go).
      const beyond = page.has_more ? jobs.slice(page.data.length).filter((job) => !fresh.has(job.id)) : [];
      if (beyond.length === 0) hasMore = page.has_more;
      jobs = [...page.data, ...beyond];
      error.clear();
      render();
    } catch (failure) {
      error.show(describeError(failure));
    }
  };
  render();
  return {
    root: el('div', { class: 'jobs-list' }, el('h3', { text: 'Jobs' }), error.root, items, more),
    refresh,
    select: (id) => {
      selected = id;
      render();
    },
  };
}
