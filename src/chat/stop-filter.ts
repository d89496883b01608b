/**
 * Applies OpenAI `stop` sequences to streamed text: text that could still be the start of a stop sequence is held
 * back, and once one appears everything from it on is dropped and generation should end.
 */

/** Incremental stop-sequence matcher for one choice. */
export class StopFilter {
  private held = '';
  private hit = false;

  constructor(private readonly stops: readonly string[]) {}

  /** True once a stop sequence was found; the caller should stop generating. */
  get stopped(): boolean {
    return this.hit;
  }

  /** Returns the text that is now safe to emit. */
  push(text: string): string {
    if (this.hit) return '';
    if (this.stops.length === 0) return text;
    this.held += text;
    let first = -1;
    for (const s of this.stops) {
      const at = this.held.indexOf(s);
      if (at >= 0 && (first < 0 || at < first)) first = at;
    }
    if (first >= 0) {
      this.hit = true;
      const out = this.held.slice(0, first);
      this.held = '';
      return out;
    }
    let keep = 0;
    for (const s of this.stops) {
      for (let n = Math.min(s.length - 1, this.held.length); n > keep; n--) {
        if (s.startsWith(this.held.slice(this.held.length - n))) {
          keep = n;
          break;
        }
      }
    }
    const out = this.held.slice(0, this.held.length - keep);
    this.held = this.held.slice(this.held.length - keep);
    return out;
  }

  /** The held-back tail, at the end of generation (it never became a stop sequence). */
  end(): string {
    const out = this.hit ? '' : this.held;
    this.held = '';
    return out;
  }
}
