/**
 * Seconds left in a stage of a job, for stages whose worker sends no ETA (class-image generation): the mean time per
 * item since the stage's first report, times the items left. The first report of a stage sets the clock, so the
 * estimate appears from its second report on (after one measured batch).
 */
export class StageEta {
  private stage: string | null = null;
  private startStep = 0;
  private startedAt = 0;

  constructor(private readonly clock: () => number = Date.now) {}

  /** The ETA in seconds for `step` of `total` in `stage`: `workerEta` when the worker sent one, else measured. */
  update(stage: string, step: number, total: number, workerEta: number | null): number | null {
    if (stage !== this.stage) {
      this.stage = stage;
      this.startStep = step;
      this.startedAt = this.clock();
    }
    if (workerEta !== null) return workerEta;
    const done = step - this.startStep;
    if (done <= 0) return null;
    const perItem = (this.clock() - this.startedAt) / 1000 / done;
    return Math.max(0, Math.round(perItem * (total - step)));
  }

  /** Seconds per item measured in the current stage so far, or null before two reports. */
  secondsPerItem(step: number): number | null {
    const done = step - this.startStep;
    return done > 0 ? (this.clock() - this.startedAt) / 1000 / done : null;
  }
}
