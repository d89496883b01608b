/**
 * The tool-call decoder: the model's own call syntax around JSON objects that the structure decoder constrains.
 *
 *   [free text]  open  {call JSON}  close  ( again {call JSON} close )*  finish  EOS
 *
 * Markers are forced token by token (tokenized by the model itself, so special marker tokens such as Qwen's
 * `<tool_call>` or Llama's `<|python_tag|>` are used as trained); each call object is matched by a `Matcher` over
 * `{name: const, arguments: parameters}` (one branch per tool). For `tool_choice: "auto"` the answer may start as
 * free text: sampling the first token of the opening marker switches to the call grammar.
 */
import { Matcher, type Grammar, type Vocabulary } from '../structure/index.js';
import type { Constraint } from './choice-runner.js';
import type { ToolCallSyntax } from './tool-syntax.js';

/** The token sequences of one syntax's markers (from the model's tokenizer). */
export interface CallMarkers {
  open: number[];
  close: number[];
  /** Between two calls (after `close`); null when only one call is allowed. */
  again: number[] | null;
  /** After the last call's `close`, before EOS. */
  finish: number[];
}

/** Tokenizes the markers of `syntax`; `parallel` allows more than one call. */
export function callMarkers(
  syntax: ToolCallSyntax,
  tokenize: (text: string) => number[],
  parallel: boolean,
): CallMarkers {
  const array = syntax.parallel === 'array';
  const multi = parallel && syntax.parallel !== 'single';
  return {
    open: tokenize(syntax.open + (array ? '[' : '')),
    close: tokenize(syntax.close),
    again: multi ? tokenize(array ? ',' : syntax.separator + syntax.open) : null,
    finish: tokenize(array ? ']' : ''),
  };
}

type State =
  | { kind: 'free'; content: Matcher | null; started: boolean }
  | { kind: 'literal'; tokens: number[]; at: number; then: 'json' | 'after-close' | 'eos' }
  | { kind: 'json'; matcher: Matcher }
  | { kind: 'choose' }
  | { kind: 'eos' };

const setBit = (words: Uint32Array, id: number): void => {
  words[id >>> 5] = (words[id >>> 5] ?? 0) | (1 << (id & 31));
};

/** One choice's decoding state over the call syntax. */
export class ToolCallConstraint implements Constraint {
  private state: State;
  /** Tokens accepted so far (EOS aside), against `budget`. */
  private used = 0;
  /** Every matcher made under the budget, for `budgetShaped`. */
  private readonly budgeted: Matcher[] = [];
  /** Tokens of the shortest call object (0 without a budget: nothing is checked). */
  private readonly callMinimum: number;

  /**
   * @param free whether the answer may be content instead of calls (`tool_choice: "auto"`)
   * @param content grammar of that content (`response_format` json_schema/json_object), null = free text
   * @param budget completion tokens allowed (null: none); a call is only begun where one can still be finished, and
   *   each call object is steered to end in time for its closing markers (docs/chat.md, "Token limits")
   */
  constructor(
    private readonly grammar: Grammar,
    private readonly vocabulary: Vocabulary,
    private readonly markers: CallMarkers,
    free: boolean,
    content: Grammar | null = null,
    private readonly budget: number | null = null,
  ) {
    this.callMinimum = budget === null ? 0 : new Matcher(grammar, vocabulary).shortestCompletion();
    this.state = free
      ? { kind: 'free', content: content && this.withBudget(new Matcher(content, vocabulary), 0), started: false }
      : this.literal(markers.open, 'json');
  }

  /** Whether the token budget took a token out of a call's (or the content's) mask. */
  budgetShaped(): boolean {
    return this.budgeted.some((m) => m.budgetShapedOutput);
  }

  /** Gives `matcher` what is left of the budget minus `reserve` (the markers that must follow it), where that fits. */
  private withBudget(matcher: Matcher, reserve: number): Matcher {
    const room = this.budget === null ? -1 : this.budget - this.used - reserve;
    if (room >= 0 && room >= matcher.shortestCompletion()) {
      matcher.setTokenBudget(room);
      this.budgeted.push(matcher);
    }
    return matcher;
  }

  /** Whether, after `lead` marker tokens, a whole call (shortest object, closing and finishing markers) still fits. */
  private callFits(lead: number): boolean {
    if (this.budget === null) return true;
    return this.used + lead + this.callMinimum + this.markers.close.length + this.markers.finish.length <= this.budget;
  }

  fillMask(words: Uint32Array): boolean {
    const s = this.state;
    switch (s.kind) {
      case 'free':
        if (!s.content) {
          if (s.started || this.callFits(this.markers.open.length)) return false;
          // Free text, but no room left for a whole call: everything except the call's first token.
          words.fill(0xffffffff);
          words[(this.markers.open[0] as number) >>> 5]! &= ~(1 << ((this.markers.open[0] as number) & 31));
          return true;
        }
        s.content.fillMask(words);
        // Structured content or a call: the choice is made by the first token.
        if (!s.started && this.callFits(this.markers.open.length)) setBit(words, this.markers.open[0] as number);
        return true;
      case 'literal':
        setBit(words, s.tokens[s.at] as number);
        return true;
      case 'json':
        s.matcher.fillMask(words);
        // The object is complete where EOS would be allowed: continue with the closing marker instead.
        if (this.vocabulary.eosTokenIds.some((id) => ((words[id >>> 5] ?? 0) >>> (id & 31)) & 1)) {
          for (const id of this.vocabulary.eosTokenIds) words[id >>> 5] = (words[id >>> 5] ?? 0) & ~(1 << (id & 31));
          this.afterObjectStarts().forEach((id) => setBit(words, id));
        }
        return true;
      case 'choose':
        this.choices().forEach((id) => setBit(words, id));
        return true;
      case 'eos':
        this.vocabulary.eosTokenIds.forEach((id) => setBit(words, id));
        return true;
    }
  }

  accept(token: number): void {
    if (!this.vocabulary.eosTokenIds.includes(token)) this.used++;
    this.step(token);
  }

  private step(token: number): void {
    const s = this.state;
    if (s.kind === 'free') {
      if (token === this.markers.open[0] && !(s.content && s.started)) {
        this.state = this.advance({ kind: 'literal', tokens: this.markers.open, at: 1, then: 'json' });
      } else if (s.content && !s.content.accept(token)) {
        throw s.content.error ?? new Error(`token ${token} rejected by the response format`);
      }
      s.started = true;
      return;
    }
    if (s.kind === 'literal') {
      if (token !== s.tokens[s.at]) throw new Error(`token ${token} breaks the call marker`);
      this.state = this.advance({ ...s, at: s.at + 1 });
      return;
    }
    if (s.kind === 'json') {
      if (s.matcher.isAccepting() && this.afterObjectStarts().includes(token)) {
        this.state = this.literal(this.markers.close, 'after-close');
        return this.step(token);
      }
      if (!s.matcher.accept(token)) throw s.matcher.error ?? new Error(`token ${token} rejected by the call grammar`);
      return;
    }
    if (s.kind === 'choose') {
      const { again, finish } = this.markers;
      if (again && token === again[0])
        this.state = this.advance({ kind: 'literal', tokens: again, at: 1, then: 'json' });
      else if (finish.length > 0 && token === finish[0])
        this.state = this.advance({ kind: 'literal', tokens: finish, at: 1, then: 'eos' });
      else if (!this.vocabulary.eosTokenIds.includes(token)) throw new Error(`token ${token} is not a call separator`);
      return;
    }
    if (!this.vocabulary.eosTokenIds.includes(token)) throw new Error(`token ${token} after the last tool call`);
  }

  /** Jump-forward: the rest of a marker, or what the call grammar forces; accepted before they are returned. */
  forced(): number[] {
    const s = this.state;
    const tokens = s.kind === 'literal' ? s.tokens.slice(s.at) : s.kind === 'json' ? s.matcher.forcedTokens() : [];
    // A marker ends where a call object starts: stop there, the object's own forced prefix comes next step.
    for (const t of tokens) this.accept(t);
    return tokens;
  }

  /** First tokens that may follow a complete call object. */
  private afterObjectStarts(): number[] {
    return this.markers.close.length > 0 ? [this.markers.close[0] as number] : this.choices();
  }

  /** Tokens allowed once a call is closed: another call, the finishing marker, or EOS. */
  private choices(): number[] {
    const { again, finish } = this.markers;
    const out = again && again.length > 0 && this.callFits(again.length) ? [again[0] as number] : [];
    if (finish.length > 0) out.push(finish[0] as number);
    else out.push(...this.vocabulary.eosTokenIds);
    return out;
  }

  private literal(tokens: number[], then: 'json' | 'after-close' | 'eos'): State {
    return this.advance({ kind: 'literal', tokens, at: 0, then });
  }

  /** Leaves a finished literal for what follows it. */
  private advance(s: State): State {
    if (s.kind !== 'literal' || s.at < s.tokens.length) return s;
    if (s.then === 'json')
      return {
        kind: 'json',
        matcher: this.withBudget(
          new Matcher(this.grammar, this.vocabulary),
          this.markers.close.length + this.markers.finish.length,
        ),
      };
    if (s.then === 'eos') return { kind: 'eos' };
    return { kind: 'choose' };
  }
}
