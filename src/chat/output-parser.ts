/**
 * Splits the model's streamed output text into what OpenAI clients see: `content`, `reasoning_content` (text inside
 * `<think>…</think>`), and tool calls (name, then argument fragments). Text that might be the start of a marker is
 * held back until it is decided, so no part of the call syntax ever reaches `content`.
 */
import { ToolCallScanner } from './tool-call-scanner.js';
import { THINK_CLOSE, THINK_OPEN, type ToolCallSyntax } from './tool-syntax.js';

/** A piece of parsed output. `index` numbers the tool calls of one choice from 0. */
export type OutputEvent =
  | { type: 'content'; text: string }
  | { type: 'reasoning'; text: string }
  | { type: 'tool_call'; index: number; name: string }
  | { type: 'tool_arguments'; index: number; text: string };

/** Options for one choice's parser. */
export interface OutputParserOptions {
  syntax: ToolCallSyntax;
  /** Recognise tool calls (false when `tool_choice` is none or there are no tools). */
  tools: boolean;
  /** Recognise `<think>` blocks. */
  thinking: boolean;
  /** Start inside a `<think>` block (templates that open it in the generation prompt). */
  startInThink?: boolean;
}

type Mode = 'text' | 'think' | 'call';

/** Incremental parser: `push` text as it is decoded, then `end()` once. */
export class OutputParser {
  private mode: Mode;
  private buffer = '';
  private scanner: ToolCallScanner | null = null;
  private calls = 0;

  constructor(private readonly options: OutputParserOptions) {
    this.mode = options.startInThink ? 'think' : 'text';
  }

  /** Number of tool calls started so far. */
  get toolCalls(): number {
    return this.calls;
  }

  /** Consumes decoded text and returns the events it settles. */
  push(text: string): OutputEvent[] {
    this.buffer += text;
    const out: OutputEvent[] = [];
    let progressed = true;
    while (progressed && this.buffer.length > 0) {
      progressed = this.mode === 'call' ? this.stepCall(out) : this.stepMarked(out);
    }
    return this.holdSeparators(merge(out));
  }

  /** Flushes whatever is held back (an unfinished marker prefix is plain text after all). */
  end(): OutputEvent[] {
    const out: OutputEvent[] = [];
    const rest = this.whitespace + this.buffer;
    // Whitespace between or after tool calls is the syntax's separator, not content.
    if (this.mode === 'text' && rest && !(this.calls > 0 && rest.trim() === ''))
      out.push({ type: 'content', text: rest });
    if (this.mode === 'think' && this.buffer) out.push({ type: 'reasoning', text: this.buffer });
    this.buffer = '';
    this.whitespace = '';
    return out;
  }

  private whitespace = '';

  /** After a tool call, holds whitespace-only content back until real text follows (or drops it at the end). */
  private holdSeparators(events: OutputEvent[]): OutputEvent[] {
    const out: OutputEvent[] = [];
    for (const e of events) {
      if (e.type !== 'content') {
        if (e.type === 'tool_call') this.whitespace = '';
        out.push(e);
      } else if (this.calls > 0 && (this.whitespace + e.text).trim() === '') {
        this.whitespace += e.text;
      } else {
        out.push({ type: 'content', text: this.whitespace + e.text });
        this.whitespace = '';
      }
    }
    return out;
  }

  private markers(): string[] {
    if (this.mode === 'think') return [THINK_CLOSE];
    const list: string[] = [];
    if (this.options.tools) list.push(this.options.syntax.open);
    if (this.options.thinking) list.push(THINK_OPEN);
    return list;
  }

  /** Text or think mode: emit up to the next marker, or all but a possible marker prefix. */
  private stepMarked(out: OutputEvent[]): boolean {
    const kind = this.mode === 'think' ? 'reasoning' : 'content';
    let best = -1;
    let marker = '';
    for (const m of this.markers()) {
      const at = this.buffer.indexOf(m);
      if (at >= 0 && (best < 0 || at < best)) [best, marker] = [at, m];
    }
    if (best >= 0) {
      if (best > 0) out.push({ type: kind, text: this.buffer.slice(0, best) });
      this.buffer = this.buffer.slice(best + marker.length);
      this.switchAfter(marker);
      return true;
    }
    const keep = heldBack(this.buffer, this.markers());
    if (this.buffer.length > keep) out.push({ type: kind, text: this.buffer.slice(0, this.buffer.length - keep) });
    this.buffer = this.buffer.slice(this.buffer.length - keep);
    return false;
  }

  private switchAfter(marker: string): void {
    if (marker === THINK_OPEN) this.mode = 'think';
    else if (marker === THINK_CLOSE) this.mode = 'text';
    else {
      this.mode = 'call';
      const { nameKey, argumentsKey } = this.options.syntax;
      this.scanner ??= new ToolCallScanner(nameKey, argumentsKey);
    }
  }

  /** Call mode: feed the scanner until the closing marker (only recognised between objects). */
  private stepCall(out: OutputEvent[]): boolean {
    const scanner = this.scanner as ToolCallScanner;
    const close = this.options.syntax.close;
    let i = 0;
    for (; i < this.buffer.length; i++) {
      if (close && scanner.atTopLevel) {
        const rest = this.buffer.slice(i);
        if (rest.startsWith(close)) {
          this.buffer = rest.slice(close.length);
          this.mode = 'text';
          return true;
        }
        if (close.startsWith(rest)) break;
      }
      for (const e of scanner.push(this.buffer[i] as string)) {
        if (e.type === 'call') out.push({ type: 'tool_call', index: this.calls++, name: e.name });
        else out.push({ type: 'tool_arguments', index: this.calls - 1, text: e.text });
      }
    }
    this.buffer = this.buffer.slice(i);
    return false;
  }
}

/** Length of the longest suffix of `text` that is a proper prefix of a marker (it may still become that marker). */
function heldBack(text: string, markers: string[]): number {
  let keep = 0;
  for (const m of markers) {
    for (let n = Math.min(m.length - 1, text.length); n > keep; n--) {
      if (m.startsWith(text.slice(text.length - n))) {
        keep = n;
        break;
      }
    }
  }
  return keep;
}

/** Joins adjacent events of the same kind (and call index) so a chunk carries one delta per kind. */
function merge(events: OutputEvent[]): OutputEvent[] {
  const out: OutputEvent[] = [];
  for (const e of events) {
    const last = out[out.length - 1];
    if (
      last &&
      e.type !== 'tool_call' &&
      last.type === e.type &&
      (e.type !== 'tool_arguments' || (last as { index: number }).index === e.index)
    ) {
      (last as { text: string }).text += e.text;
    } else {
      out.push({ ...e });
    }
  }
  return out;
}
