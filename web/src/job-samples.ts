import { apiFetch, getJson } from './api.js';
import { el } from './dom.js';

/** A `fine_tuning.job.sample` (atelier): a validation image the worker drew during training. */
interface Sample {
  id: string;
  step: number;
  prompt: string | null;
  url: string;
}

/**
 * The validation samples of a job (`GET /v1/fine_tuning/jobs/{id}/samples`), newest step first, each with its step
 * and prompt. `update(id)` fetches only images it has not shown yet, so polling costs one list call; the section
 * stays hidden while the job has none (no validation prompts configured).
 */
export function createJobSamples(): { root: HTMLElement; update(jobId: string): Promise<void> } {
  let shownJob: string | null = null;
  const shown = new Set<string>();
  const strip = el('div', {
    class: 'thumbs samples',
    id: 'job-samples',
    role: 'group',
    'aria-label': 'Validation samples',
  });
  const root = el('div', { hidden: true }, el('h4', { text: 'Validation samples' }), strip);
  const figure = (sample: Sample): HTMLElement => {
    const caption = `step ${sample.step}${sample.prompt ? ` · ${sample.prompt}` : ''}`;
    const img = el('img', { alt: `validation sample, ${caption}`, class: 'thumb-image' });
    void apiFetch(sample.url).then(
      async (response) => {
        img.src = URL.createObjectURL(await response.blob());
      },
      () => undefined,
    );
    return el('figure', { 'data-step': sample.step }, img, el('figcaption', { text: caption }));
  };
  return {
    root,
    update: async (jobId) => {
      if (shownJob !== jobId) {
        shownJob = jobId;
        shown.clear();
        strip.replaceChildren();
      }
      const { data } = await getJson<{ data: Sample[] }>(`/v1/fine_tuning/jobs/${encodeURIComponent(jobId)}/samples`);
      if (shownJob !== jobId) return;
      for (const sample of data.filter((s) => !shown.has(s.id))) {
        shown.add(sample.id);
        strip.prepend(figure(sample));
      }
      root.hidden = shown.size === 0;
    },
  };
}
