/**
 * The sampling loop of one choice: engine tokens → constraint advance → UTF-8 text → stop sequences → output parser.
 * Yields OpenAI-level events (content / reasoning / tool-call deltas, log-probabilities, finish) as they settle, so
 * streamed and non-streamed responses are built from the very same sequence.
 */
import type { EngineModel, EnginePrompt, SamplingOptions, TokenVocabulary } from '../engines/index.js';
import type { OutputEvent, OutputParser } from './output-parser.js';
import { StopFilter } from './stop-filter.js';

/** The decoder state of one choice, as the sampling loop drives it. */
export interface Constraint {
  /** Sets the bits of the tokens allowed next (the buffer arrives zeroed); false = this step is unconstrained. */
  fillMask(words: Uint32Array): boolean;
  /** Advances past a sampled token (EOS included); throws if the token was not allowed. */
  accept(token: number): void;
  /** Tokens that must come next, already accepted (jump-forward); [] when the next token is a real choice. */
  forced?(): number[];
  /** Whether the token budget took a token out of a mask: an end that follows is reported as "length". */
  budgetShaped?(): boolean;
}

/** One output token's log-probability, with the alternatives requested by `top_logprobs`. */
export interface TokenLogprob {
  token: string;
  bytes: number[];
  logprob: number;
  top: { token: string; bytes: number[]; logprob: number }[];
}

/** Why a choice ended. */
export type FinishReason = 'stop' | 'length' | 'tool_calls';

/** What a choice yields. */
export type ChoiceEvent =
  | OutputEvent
  | { type: 'logprobs'; content: TokenLogprob[] }
  | { type: 'finish'; reason: FinishReason; completionTokens: number };

/** Inputs of one choice. */
export interface ChoiceOptions {
  model: EngineModel;
  vocabulary: TokenVocabulary;
  prompt: EnginePrompt;
  sampling: SamplingOptions;
  maxTokens: number;
  constraint: Constraint | null;
  stop: readonly string[];
  parser: OutputParser;
  /** -1 = no log-probabilities. */
  topLogprobs: number;
  /** Special tokens whose text the parser must see (tool-call markers such as `<|python_tag|>`); others are hidden. */
  visibleSpecial?: ReadonlySet<number>;
  signal?: AbortSignal;
  /** Receives prompt and cached-prefix token counts once the prompt is evaluated. */
  onPrompt?: (promptTokens: number, cachedTokens: number) => void;
}

const lossy = new TextDecoder('utf-8');

function describe(vocabulary: TokenVocabulary, token: number): { token: string; bytes: number[] } {
  const bytes = vocabulary.bytes[token] ?? new Uint8Array(0);
  return { token: lossy.decode(bytes), bytes: [...bytes] };
}

/** Runs one choice to its end (EOS, stop sequence, token budget or abort). */
export async function* runChoice(options: ChoiceOptions): AsyncGenerator<ChoiceEvent> {
  const { vocabulary, constraint, parser, signal } = options;
  const decoder = new TextDecoder('utf-8');
  const stop = new StopFilter(options.stop);
  const inner = new AbortController();
  let exhausted = false;
  const abort = (): void => inner.abort();
  signal?.addEventListener('abort', abort, { once: true });
  const generation = options.model.generate({
    prompt: options.prompt,
    sampling: options.sampling,
    maxTokens: options.maxTokens,
    topLogprobs: options.topLogprobs,
    signal: inner.signal,
    ...(constraint?.forced && { forced: () => constraint.forced?.() ?? [] }),
    ...(constraint && {
      mask: (words: Uint32Array) => {
        if (!constraint.fillMask(words)) return false;
        // An empty mask means the decoder hit one of its limits (document size, depth): end the choice as "length"
        // rather than leave the sampler without a single candidate.
        if (words.every((w) => w === 0)) {
          exhausted = true;
          for (const id of vocabulary.eog) words[id >>> 5] = (words[id >>> 5] ?? 0) | (1 << (id & 31));
        }
        return true;
      },
    }),
  });
  let count = 0;
  let ended: FinishReason | null = null;
  try {
    for await (const step of generation) {
      if (count === 0) options.onPrompt?.(await generation.promptTokens, await generation.cachedTokens);
      count++;
      if (step.logprob !== undefined) {
        const entry = {
          ...describe(vocabulary, step.token),
          logprob: step.logprob,
          top: (step.top ?? []).map((t) => ({ ...describe(vocabulary, t.token), logprob: t.logprob })),
        };
        yield { type: 'logprobs', content: [entry] };
      }
      if (step.eog) {
        // OpenAI semantics: "length" whenever the limit ended the answer — also when it steered it to a valid end.
        ended = exhausted || constraint?.budgetShaped?.() ? 'length' : 'stop';
        break;
      }
      if (!step.forced) constraint?.accept(step.token);
      const hidden = vocabulary.special[step.token] && !options.visibleSpecial?.has(step.token);
      const text = hidden ? '' : decoder.decode(vocabulary.bytes[step.token], { stream: true });
      yield* parser.push(stop.push(text));
      if (stop.stopped) {
        ended = 'stop';
        break;
      }
    }
  } finally {
    signal?.removeEventListener('abort', abort);
    inner.abort();
  }
  if (count === 0) options.onPrompt?.(await generation.promptTokens, await generation.cachedTokens);
  if (signal?.aborted) return;
  yield* parser.push(stop.push(decoder.decode()) + stop.end());
  yield* parser.end();
  const reason = ended ?? 'length';
  yield {
    type: 'finish',
    reason: reason === 'stop' && parser.toolCalls > 0 ? 'tool_calls' : reason,
    completionTokens: count,
  };
}
