import { SchemaBuilder, type CompileOptions } from './compile-json-schema.js';
import { CompileError } from './errors.js';
import { Grammar } from './grammar.js';
import { resolveLimits } from './limits.js';
import type { Machine } from './machine.js';
import { Unsatisfiable } from './schema-merge.js';
import { StaticMachine } from './static-machine.js';

/** How a model family writes calls: `open` CALLS `close`, each call `{"<nameKey>":"<name>","<argumentsKey>":{…}}`. */
export interface ToolCallGrammarSyntax {
  /** Marker opening a call region, e.g. `<tool_call>\n`; must be non-empty in `auto` mode. */
  open: string;
  /** Marker closing a region, e.g. `\n</tool_call>` ('' = none). */
  close: string;
  /** Between consecutive regions when several calls each get one (Hermes: `\n`). */
  separator: string;
  /** Key of the function name, e.g. `name`. */
  nameKey: string;
  /** Key of the arguments object, e.g. `arguments` or `parameters`. */
  argumentsKey: string;
  /** Several calls as one JSON array inside a single region (Mistral) instead of one region per call. */
  array: boolean;
}

/** One callable function. */
export interface ToolSpec {
  name: string;
  /** JSON Schema of the arguments object; absent = any object. */
  parameters?: unknown;
}

/** What `compileToolCalls` builds. */
export interface ToolCallsSpec {
  tools: readonly ToolSpec[];
  /**
   * `auto`: free text (never containing `open`), optionally followed by calls; `required`: calls only;
   * `named`: exactly one call of `name`.
   */
  mode: 'auto' | 'required' | 'named';
  /** The function for `named` mode. */
  name?: string;
  /** Allow more than one call (ignored in `named` mode). */
  parallel: boolean;
  syntax: ToolCallGrammarSyntax;
  /** Options for the argument schemas (whitespace, property order, limits). */
  options?: CompileOptions;
}

const enc = new TextEncoder();

/**
 * A grammar for tool calls in a model family's syntax. The call wrapper is compact JSON with the name first, so the
 * name is known before the arguments start; each name is followed by exactly its own argument schema. Throws
 * CompileError (pointer `/tools/<i>/parameters…`) when an argument schema cannot be enforced.
 */
export function compileToolCalls(spec: ToolCallsSpec): Grammar {
  const { syntax, mode } = spec;
  const limits = resolveLimits(spec.options?.limits);
  const ws = spec.options?.whitespace === undefined || spec.options.whitespace === 'compact' ? 0 : spec.options.whitespace.maxWhitespace;
  const tools = mode === 'named' ? spec.tools.filter((t) => t.name === spec.name) : spec.tools;
  if (tools.length === 0) throw new CompileError('tools', '', mode === 'named' ? `no tool named ${JSON.stringify(spec.name)}` : 'no tools given');
  if (new Set(spec.tools.map((t) => t.name)).size !== spec.tools.length) throw new CompileError('tools', '', 'tool names must be unique');
  if (mode === 'auto' && syntax.open === '') throw new CompileError('tools', '', 'auto mode needs a non-empty open marker to tell text from calls');
  const machines: (Machine | undefined)[] = [undefined];
  const wrapper = new StaticMachine();
  const parallel = spec.parallel && mode !== 'named';

  // One call: {"<nameKey>":"<name>","<argumentsKey>":ARGS}, from `from` to `to`.
  const callStart = wrapper.state();
  const callEnd = wrapper.state();
  const head = wrapper.literal(callStart, enc.encode(`{${JSON.stringify(syntax.nameKey)}:`));
  tools.forEach((tool) => {
    const i = spec.tools.indexOf(tool);
    const builder = new SchemaBuilder(tool.parameters ?? { type: 'object' }, ws, spec.options?.propertyOrder ?? 'schema', limits, machines);
    let args: number;
    try {
      args = builder.build(tool.parameters ?? { type: 'object' }, '');
    } catch (e) {
      if (e instanceof CompileError) throw new CompileError(e.keyword, `/tools/${i}/parameters${e.pointer}`, e.message);
      if (e instanceof Unsatisfiable) throw new CompileError('parameters', `/tools/${i}/parameters`, 'no arguments satisfy this schema');
      throw e;
    }
    const beforeArgs = wrapper.literal(head, enc.encode(`${JSON.stringify(tool.name)},${JSON.stringify(syntax.argumentsKey)}:`));
    const afterArgs = wrapper.state();
    wrapper.call(beforeArgs, args, afterArgs);
    wrapper.literal(afterArgs, enc.encode('}'), callEnd);
  });

  // Regions: open CALL close (separator open CALL close)*, or open [CALL(,CALL)*] close.
  const regionStart = wrapper.state();
  const done = wrapper.state();
  wrapper.setFinal(done);
  const afterOpen = syntax.open === '' ? regionStart : wrapper.literal(regionStart, enc.encode(syntax.open));
  if (syntax.array) {
    const first = wrapper.literal(afterOpen, enc.encode('['));
    link(wrapper, first, callStart);
    const more = wrapper.literal(callEnd, enc.encode(parallel ? ',' : ']'));
    if (parallel) {
      link(wrapper, more, callStart);
      const closeArray = wrapper.literal(callEnd, enc.encode(']'));
      finishRegion(wrapper, closeArray, syntax.close, done);
    } else finishRegion(wrapper, more, syntax.close, done);
  } else {
    link(wrapper, afterOpen, callStart);
    if (parallel) {
      const again = wrapper.literal(done, enc.encode(syntax.separator + syntax.open));
      link(wrapper, again, callStart);
    }
    finishRegion(wrapper, callEnd, syntax.close, done);
  }
  if (mode === 'auto') freeText(wrapper, enc.encode(syntax.open), afterOpen);
  else link(wrapper, 0, regionStart);
  machines[0] = wrapper;
  return Grammar.create(machines.map((m) => m!), 0, limits);
}

/** Joins two states without bytes: a call of nothing is not possible, so copy `to`'s outgoing edges and calls. */
function link(m: StaticMachine, from: number, to: number): void {
  for (let b = 0; b < 256; b++) {
    const t = m.next(to, b);
    if (t >= 0) m.edge(from, b, t);
  }
  const calls = m.calls(to);
  for (let i = 0; i < calls.length; i += 2) m.call(from, calls[i]!, calls[i + 1]!);
  if (m.isFinal(to)) m.setFinal(from);
}

function finishRegion(m: StaticMachine, from: number, close: string, done: number): void {
  if (close === '') link(m, from, done);
  else m.literal(from, enc.encode(close), done);
}

/**
 * Free text from state 0: a KMP automaton over `open`, so text can never contain the marker; reading the marker
 * completely moves to `afterOpen`. Every text state may end the document.
 */
function freeText(m: StaticMachine, open: Uint8Array, afterOpen: number): void {
  const fail = new Int32Array(open.length);
  for (let i = 1, k = 0; i < open.length; i++) {
    while (k > 0 && open[i] !== open[k]) k = fail[k - 1]!;
    if (open[i] === open[k]) k++;
    fail[i] = k;
  }
  const states = [0];
  for (let p = 1; p < open.length; p++) states.push(m.state());
  for (let p = 0; p < open.length; p++) {
    m.setFinal(states[p]!);
    for (let b = 0; b < 256; b++) {
      let k = p;
      while (k > 0 && open[k] !== b) k = fail[k - 1]!;
      if (open[k] === b) k++;
      if (k === open.length) {
        m.edge(states[p]!, b, afterOpen);
      } else m.edge(states[p]!, b, states[k]!);
    }
  }
}
