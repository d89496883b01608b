import { budgetMasks } from './budget-mask.js';
import { completionPlan, longestToken } from './completion-plan.js';
import { MatcherError } from './errors.js';
import type { Grammar } from './grammar.js';
import { DEAD } from './parse-space.js';
import { shortestCompletion } from './shortest-completion.js';
import type { Vocabulary } from './vocabulary.js';

const encoder = new TextEncoder();

/**
 * The per-request decoding state over a grammar and a vocabulary. `fillMask` writes which tokens may come next,
 * `accept` consumes one. An error (a token outside the mask, a limit) stops the matcher for good: `error` is set,
 * later calls fail and masks allow nothing, so a broken request cannot drift into unconstrained output.
 */
export class Matcher {
  private state: number;
  private stopped = false;
  private failure: MatcherError | undefined;
  /** Set ids before each accepted step, and whether that step was EOS; for rollback. */
  private readonly history: { set: number; bytes: number; eos: boolean; tokens: number }[] = [];
  private bytes = 0;
  /** Tokens accepted (EOS aside), and the count the budget ends at (null: no budget). */
  private tokens = 0;
  private budgetEnd: number | null = null;
  private budgetShaped = false;

  constructor(
    readonly grammar: Grammar,
    readonly vocabulary: Vocabulary,
  ) {
    this.state = grammar.runtime.initial;
  }

  /**
   * Writes the allowed-token bitmask (bit `id & 31` of word `id >>> 5`) into `mask`, which must hold at least
   * `vocabulary.maskWords` words. EOS bits are set exactly when the document may end. After a stop or an error the
   * mask is empty.
   */
  fillMask(mask: Uint32Array): void {
    if (mask.length < this.vocabulary.maskWords)
      throw new RangeError(`mask needs ${this.vocabulary.maskWords} words, got ${mask.length}`);
    if (this.stopped || this.failure) {
      mask.fill(0);
      return;
    }
    try {
      this.grammar.runtime.fillMask(this.state, this.vocabulary, mask);
      if (this.budgetEnd !== null)
        this.budgetShaped = this.applyBudget(mask, this.budgetEnd - this.tokens) || this.budgetShaped;
    } catch (e) {
      mask.fill(0);
      this.fail(e);
    }
  }

  /** Consumes one token; false (and `error` set) if the grammar does not allow it. EOS stops the matcher. */
  accept(token: number): boolean {
    if (this.failure) return false;
    if (!Number.isInteger(token) || token < 0 || token >= this.vocabulary.size)
      return this.fail(new MatcherError(`token ${token} is outside the vocabulary`));
    if (this.stopped) return this.fail(new MatcherError(`token ${token} after the end of the document`));
    if (this.vocabulary.eosTokenIds.includes(token)) {
      if (!this.isAccepting()) return this.fail(new MatcherError('end of text before the document is complete'));
      this.history.push({ set: this.state, bytes: this.bytes, eos: true, tokens: this.tokens });
      this.trimHistory();
      this.stopped = true;
      return true;
    }
    const bytes = this.vocabulary.tokens[token];
    if (!bytes) return this.fail(new MatcherError(`special token ${token} is not allowed inside structured output`));
    return this.consume(bytes, `token ${token}`, 1);
  }

  /** Consumes raw bytes as one step (for forced text or a prompt prefill). */
  acceptBytes(bytes: Uint8Array): boolean {
    if (this.failure) return false;
    if (this.stopped) return this.fail(new MatcherError('bytes after the end of the document'));
    return this.consume(bytes, 'bytes', 0);
  }

  /** Consumes the UTF-8 encoding of `text` as one step. */
  acceptString(text: string): boolean {
    return this.acceptBytes(encoder.encode(text));
  }

  private consume(bytes: Uint8Array, what: string, tokens: number): boolean {
    if (this.bytes + bytes.length > this.grammar.limits.maxDocumentBytes)
      return this.fail(new MatcherError(`document exceeds ${this.grammar.limits.maxDocumentBytes} bytes`));
    let set = this.state;
    try {
      for (let i = 0; i < bytes.length; i++) {
        set = this.grammar.runtime.step(set, bytes[i]!);
        if (set === DEAD)
          return this.fail(new MatcherError(`${what} is not allowed here (byte ${i} of ${bytes.length})`));
      }
      // Under a budget a step must leave a completion that fits what is left (the budget mask keeps to this).
      const left = this.budgetEnd === null ? Infinity : this.budgetEnd - this.tokens - tokens;
      if (
        left < Infinity &&
        shortestCompletion(this.grammar.runtime, this.vocabulary).ofSet(set) > left &&
        this.tokensToFinish(set) > left
      ) {
        return this.fail(new MatcherError(`${what} leaves too few tokens to finish the document within the budget`));
      }
    } catch (e) {
      return this.fail(e);
    }
    this.history.push({ set: this.state, bytes: this.bytes, eos: false, tokens: this.tokens });
    this.trimHistory();
    this.state = set;
    this.bytes += bytes.length;
    this.tokens += tokens;
    return true;
  }

  private trimHistory(): void {
    if (this.history.length > this.grammar.limits.maxRollback) this.history.shift();
  }

  private fail(e: unknown): false {
    this.failure = e instanceof MatcherError ? e : new MatcherError(e instanceof Error ? e.message : String(e));
    return false;
  }

  /** Whether the document read so far is complete (EOS would be allowed). */
  isAccepting(): boolean {
    return !this.failure && !this.stopped && this.grammar.runtime.isAccepting(this.state);
  }

  /** Whether EOS was accepted or an error occurred. */
  isStopped(): boolean {
    return this.stopped || this.failure !== undefined;
  }

  /** The error that stopped the matcher, if any. */
  get error(): MatcherError | undefined {
    return this.failure;
  }

  /** Bytes consumed so far. */
  get consumedBytes(): number {
    return this.bytes;
  }

  /** Undoes the last `n` accepted steps (tokens, byte runs or EOS). Does not clear an error. */
  rollback(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > this.history.length)
      throw new RangeError(`can roll back 0..${this.history.length} steps, not ${n}`);
    for (let i = 0; i < n; i++) {
      const h = this.history.pop()!;
      this.state = h.set;
      this.bytes = h.bytes;
      this.tokens = h.tokens;
      if (h.eos) this.stopped = false;
    }
  }

  /**
   * How many tokens finish the document from here at least as the budget counts them: the shortest completion in
   * bytes (using bytes the vocabulary has one-byte tokens for), split into the longest tokens — an upper bound on
   * the fewest tokens; 0 when it may end now, Infinity when the vocabulary cannot spell a completion.
   */
  shortestCompletion(): number {
    if (this.isStopped()) return 0;
    return this.tokensToFinish(this.state);
  }

  /** Tokens of the shortest completion's plan from `set` (Infinity if none). */
  private tokensToFinish(set: number): number {
    return completionPlan(this.grammar.runtime, this.vocabulary, set)?.length ?? Infinity;
  }

  /** Cuts `mask` to what `left` tokens allow; true when a token was taken out. */
  private applyBudget(mask: Uint32Array, left: number): boolean {
    const runtime = this.grammar.runtime;
    if (shortestCompletion(runtime, this.vocabulary).ofSet(this.state) <= left)
      return budgetMasks(runtime, this.vocabulary).apply(this.state, mask, left - 1);
    // Fewer tokens left than the shortest completion has bytes: its own tokens, one by one, are what still fits.
    const next = completionPlan(runtime, this.vocabulary, this.state)![0]!;
    mask.fill(0);
    mask[next >>> 5] = 1 << (next & 31);
    return true;
  }

  /**
   * Allows at most `tokens` more tokens (EOS not counted; null lifts the budget): from here on masks only offer
   * tokens after which the document can still be finished in what is left, so it ends complete and valid at the
   * latest with the last one. A budget below `shortestCompletion()` is a RangeError. `reset` lifts the budget.
   */
  setTokenBudget(tokens: number | null): void {
    if (tokens === null) {
      this.budgetEnd = null;
      return;
    }
    const need = this.shortestCompletion();
    if (!Number.isInteger(tokens) || tokens < need)
      throw new RangeError(`a token budget of ${tokens} is below the ${need} tokens the shortest completion needs`);
    this.budgetEnd = this.tokens + tokens;
  }

  /** Whether the token budget has taken a token out of a mask so far (the output was shaped by the limit). */
  get budgetShapedOutput(): boolean {
    return this.budgetShaped;
  }

  /** Back to the start of the document, clearing any error. */
  reset(): void {
    this.state = this.grammar.runtime.initial;
    this.tokens = 0;
    this.budgetEnd = null;
    this.budgetShaped = false;
    this.stopped = false;
    this.failure = undefined;
    this.history.length = 0;
    this.bytes = 0;
  }

  /** Bytes the grammar forces next (the only possible continuation), up to `max` bytes; empty if none. */
  forcedBytes(max = 4096): Uint8Array {
    if (this.isStopped()) return new Uint8Array(0);
    const out: number[] = [];
    const runtime = this.grammar.runtime;
    let set = this.state;
    while (out.length < max && !runtime.isAccepting(set)) {
      let only = -1;
      let next = DEAD;
      for (let b = 0; b < 256; b++) {
        const t = runtime.step(set, b);
        if (t === DEAD) continue;
        if (only >= 0) return Uint8Array.from(out);
        only = b;
        next = t;
      }
      if (only < 0) break;
      out.push(only);
      set = next;
    }
    return Uint8Array.from(out);
  }

  /**
   * Tokens for jump-forward decoding: the forced bytes split greedily into the longest vocabulary tokens. The last
   * token is held back when a longer token could start with it (the model might prefer to merge across the
   * boundary), unless the forced bytes complete the document.
   */
  forcedTokens(): number[] {
    // Following the shortest completion's tokens under a tight budget: forced bytes split on their own could cost more.
    if (
      this.budgetEnd !== null &&
      shortestCompletion(this.grammar.runtime, this.vocabulary).ofSet(this.state) > this.budgetEnd - this.tokens
    )
      return [];
    const bytes = this.forcedBytes();
    const trie = this.vocabulary.trie;
    const out: number[] = [];
    let i = 0;
    while (i < bytes.length) {
      const { token: best, length: bestLen, node: bestNode } = longestToken(trie, bytes, i);
      if (best < 0) break;
      const last = i + bestLen === bytes.length;
      if (last && trie.end[bestNode]! > bestNode + 1) {
        const probe = this.grammar.runtime;
        let set = this.state;
        for (const b of bytes) set = probe.step(set, b);
        if (!probe.isAccepting(set)) break;
      }
      out.push(best);
      i += bestLen;
    }
    return out;
  }
}
