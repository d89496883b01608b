/**
 * Streams tool calls out of the JSON a model writes inside its call region: emits each call's name as soon as it is
 * complete and then its `arguments` text as it arrives, as OpenAI streams `tool_calls[].function.arguments`.
 * It is a character-level JSON lexer (strings, escapes, nesting) that never needs the whole object.
 */

/** What the scanner found in the text it was fed. */
export type ScanEvent = { type: 'call'; name: string } | { type: 'arguments'; text: string };

type Phase = 'key' | 'colon' | 'value';

/** Scans a sequence of `{name, arguments}` objects, optionally wrapped in one JSON array (Mistral). */
export class ToolCallScanner {
  private depth = 0;
  private inString = false;
  private escape = false;
  private arrayBase = 0;
  private phase: Phase = 'key';
  private token = '';
  private key = '';
  private capture: 'name' | 'arguments' | null = null;
  private argStarted = false;
  private composite = false;
  private sawArguments = false;
  private name: string | null = null;
  private pendingArgs = '';
  private started = false;

  constructor(
    private readonly nameKey: string,
    private readonly argumentsKey: string,
  ) {}

  /** True between calls (outside every object and string), where a closing marker may follow. */
  get atTopLevel(): boolean {
    return this.depth <= this.arrayBase && !this.inString;
  }

  /** Feeds one character; returns the events it completes. */
  push(ch: string): ScanEvent[] {
    const out: ScanEvent[] = [];
    const objectLevel = this.arrayBase + 1;
    if (!this.inString && this.depth === 0 && ch === '[') {
      this.arrayBase = 1;
      this.depth = 1;
      return out;
    }
    if (this.capture === 'arguments') this.captureArgument(ch, objectLevel, out);
    const keyOrName = this.depth === objectLevel && this.capture !== 'arguments';
    if (this.inString) {
      if (this.escape) this.escape = false;
      else if (ch === '\\') this.escape = true;
      else if (ch === '"') this.inString = false;
      if (keyOrName) this.token += ch;
      if (keyOrName && !this.inString) this.stringDone();
      return out;
    }
    this.structural(ch, objectLevel, out);
    if (this.capture === 'arguments' && this.composite && this.depth === objectLevel) this.capture = null;
    return out;
  }

  private captureArgument(ch: string, objectLevel: number, out: ScanEvent[]): void {
    if (!this.argStarted && /\s/.test(ch)) return;
    if (!this.inString && this.depth === objectLevel && (ch === ',' || ch === '}')) {
      this.capture = null;
      return;
    }
    if (!this.argStarted) {
      this.argStarted = true;
      this.composite = ch === '{' || ch === '[';
    }
    if (this.name === null) {
      this.pendingArgs += ch;
      return;
    }
    if (!this.started) this.startCall(out);
    out.push({ type: 'arguments', text: ch });
  }

  private structural(ch: string, objectLevel: number, out: ScanEvent[]): void {
    switch (ch) {
      case '"':
        this.inString = true;
        if (this.depth === objectLevel && this.capture !== 'arguments') this.token = '"';
        break;
      case '{':
      case '[':
        if (this.depth === this.arrayBase && ch === '{') this.startObject();
        this.depth++;
        break;
      case '}':
      case ']':
        this.depth--;
        if (this.depth === this.arrayBase && ch === '}') this.endObject(out);
        if (this.depth < this.arrayBase) this.arrayBase = Math.max(0, this.depth);
        break;
      case ':':
        if (this.depth === objectLevel && this.phase === 'colon') this.startValue();
        break;
      case ',':
        if (this.depth === objectLevel) this.phase = 'key';
        break;
    }
  }

  private startValue(): void {
    this.phase = 'value';
    this.argStarted = false;
    this.composite = false;
    if (this.key === this.argumentsKey) {
      this.capture = 'arguments';
      this.sawArguments = true;
    } else if (this.key === this.nameKey) {
      this.capture = 'name';
    }
  }

  private stringDone(): void {
    if (this.phase === 'key') {
      this.key = parseString(this.token) ?? '';
      this.phase = 'colon';
    } else if (this.capture === 'name') {
      this.name = parseString(this.token);
      this.capture = null;
    }
    this.token = '';
  }

  private startObject(): void {
    this.phase = 'key';
    this.name = null;
    this.started = false;
    this.sawArguments = false;
    this.pendingArgs = '';
    this.capture = null;
  }

  private startCall(out: ScanEvent[]): void {
    this.started = true;
    out.push({ type: 'call', name: this.name ?? '' });
    if (this.pendingArgs !== '') out.push({ type: 'arguments', text: this.pendingArgs });
    this.pendingArgs = '';
  }

  private endObject(out: ScanEvent[]): void {
    if (this.name !== null && !this.started) this.startCall(out);
    // A call written without an arguments key still owes OpenAI clients a JSON object.
    if (this.started && !this.sawArguments) out.push({ type: 'arguments', text: '{}' });
    this.name = null;
    this.capture = null;
  }
}

function parseString(json: string): string | null {
  try {
    const v: unknown = JSON.parse(json);
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}
