/**
 * Chooses and compiles the decoder grammar a request needs — `response_format` json_object/json_schema, or the
 * tool-call grammar for `tool_choice` auto/required/named — once per request, before generation; each choice then
 * gets its own matcher. A schema the decoder cannot enforce exactly is a 400 naming the field, never a silent
 * fallback to unconstrained output.
 */
import { InvalidRequestError, type ChatRequest, type ChatTool } from '../protocol/index.js';
import { CompileError, Matcher, Vocabulary, compileJsonSchema, type Grammar } from '../structure/index.js';
import type { ChatModel } from './chat-model.js';
import type { Constraint } from './choice-runner.js';
import { ToolCallConstraint, callMarkers } from './tool-constraint.js';

const vocabularies = new WeakMap<ChatModel, Vocabulary>();

/** The decoder's vocabulary of a model (built once: special tokens have no bytes, EOG ids end generation). */
export function decoderVocabulary(model: ChatModel): Vocabulary {
  let v = vocabularies.get(model);
  if (!v) {
    const { bytes, special, eog } = model.vocabulary;
    v = Vocabulary.fromTokenBytes(bytes.map((b, i) => (special[i] ? null : b)), { eosTokenIds: eog });
    vocabularies.set(model, v);
  }
  return v;
}

function compileOrReject(param: string, schema: unknown): Grammar {
  try {
    return compileJsonSchema(schema);
  } catch (error) {
    if (error instanceof CompileError) {
      const at = error.pointer === '' ? '' : `.${error.pointer.slice(1).replaceAll('/', '.')}`;
      throw new InvalidRequestError(`Unsupported schema: ${error.message}`, { param: `${param}${at}`, code: 'invalid_value', cause: error });
    }
    throw error;
  }
}

/** The schema of one call object in the model's syntax: `{"<name key>": "<tool>", "<arguments key>": {...}}`. */
function callSchema(model: ChatModel, tool: ChatTool): Record<string, unknown> {
  const { nameKey, argumentsKey } = model.syntax;
  return {
    type: 'object',
    properties: { [nameKey]: { const: tool.name }, [argumentsKey]: tool.parameters },
    required: [nameKey, argumentsKey],
    additionalProperties: false,
  };
}

/**
 * The request's completion budget (`max_completion_tokens` / `max_tokens`) when the grammar can always be finished
 * within it, or null when none was given or the vocabulary cannot spell completions in one-byte tokens (then output
 * is cut as before). A budget below the shortest valid answer (`minimum`, in tokens) is a 400.
 */
function budgetFor(request: ChatRequest, minimum: number, what: string): number | null {
  if (request.maxTokens === null || !Number.isFinite(minimum)) return null;
  if (request.maxTokens < minimum) {
    throw new InvalidRequestError(
      `max_completion_tokens (or max_tokens) is ${request.maxTokens}, but the shortest ${what} takes ${minimum} tokens; ` +
        'raise the limit so the answer can be finished and valid.',
      { param: 'max_completion_tokens', code: 'invalid_value' },
    );
  }
  return request.maxTokens;
}

function toolConstraint(model: ChatModel, request: ChatRequest): () => Constraint {
  const { tools, toolChoice } = request;
  const chosen = typeof toolChoice === 'object' ? tools.filter((t) => t.name === toolChoice.name) : tools;
  // Each tool's parameters compile alone first, so an unsupported keyword is reported against its own tool.
  chosen.forEach((t) => compileOrReject(`tools[${tools.indexOf(t)}].function.parameters`, t.parameters));
  const schemas = chosen.map((t) => callSchema(model, t));
  const grammar = compileOrReject('tools', schemas.length === 1 ? schemas[0] : { anyOf: schemas });
  const vocabulary = decoderVocabulary(model);
  const parallel = request.parallelToolCalls && typeof toolChoice !== 'object';
  const markers = callMarkers(model.syntax, (text) => model.engine.tokenize(text, true), parallel);
  // Under "auto" the answer may be content instead: free text, or the response_format's JSON.
  const free = toolChoice === 'auto';
  const content = free ? contentGrammar(request) : null;
  const call = markers.open.length + new Matcher(grammar, vocabulary).shortestCompletion() + markers.close.length + markers.finish.length;
  // Under "auto" the answer may be free text (any length) or the response format's JSON instead of a call.
  const minimum = !free ? call : content ? Math.min(call, new Matcher(content, vocabulary).shortestCompletion()) : 0;
  const budget = budgetFor(request, minimum, free ? 'answer' : 'tool call valid under its parameters schema');
  return () => new ToolCallConstraint(grammar, vocabulary, markers, free, content, budget);
}

/** The grammar `response_format` imposes on content, or null for free text. */
function contentGrammar(request: ChatRequest): Grammar | null {
  const format = request.responseFormat;
  if (format.type === 'json_object') return compileJsonSchema({ type: 'object' });
  if (format.type === 'json_schema') return compileOrReject('response_format.json_schema.schema', format.schema);
  return null;
}

function matcherConstraint(grammar: Grammar, vocabulary: Vocabulary, budget: number | null): () => Constraint {
  return () => {
    const matcher = new Matcher(grammar, vocabulary);
    // The budget steers the document to a valid end by the last token (docs/chat.md, "Token limits").
    if (budget !== null) matcher.setTokenBudget(budget);
    return {
      budgetShaped: () => matcher.budgetShapedOutput,
      fillMask: (words) => {
        matcher.fillMask(words);
        return true;
      },
      accept: (token) => {
        if (!matcher.accept(token)) throw matcher.error ?? new Error(`token ${token} rejected by the grammar`);
      },
      forced: () => {
        const tokens = matcher.forcedTokens();
        for (const t of tokens) if (!matcher.accept(t)) throw matcher.error ?? new Error(`forced token ${t} rejected`);
        return tokens;
      },
    };
  };
}

/** Compiles the request's grammar; returns a factory of per-choice constraints, or null when unconstrained. */
export function compileConstraint(model: ChatModel, request: ChatRequest): (() => Constraint) | null {
  const { tools, toolChoice } = request;
  if (tools.length > 0 && toolChoice !== 'none') return toolConstraint(model, request);
  const content = contentGrammar(request);
  if (!content) return null;
  const vocabulary = decoderVocabulary(model);
  const budget = budgetFor(request, new Matcher(content, vocabulary).shortestCompletion(), 'JSON valid under the response format');
  return matcherConstraint(content, vocabulary, budget);
}
