/**
 * Chooses and compiles the decoder grammar a request needs — `response_format` json_object/json_schema, or the
 * tool-call grammar for `tool_choice` auto/required/named — once per request, before generation; each choice then
 * gets its own matcher. A schema the decoder cannot enforce exactly is a 400 naming the field, never a silent
 * fallback to unconstrained output.
 */
import { InvalidRequestError, type ChatRequest, type ChatTool } from '../protocol/index.js';
import {
  CompileError,
  Matcher,
  Vocabulary,
  compileJsonSchema,
  embedSchemaAt,
  escapePointerToken,
  type Grammar,
} from '../structure/index.js';
import type { ChatModel } from './chat-model.js';
import type { Constraint } from './choice-runner.js';
import { ToolCallConstraint, callMarkers } from './tool-constraint.js';

const vocabularies = new WeakMap<ChatModel, Vocabulary>();

/** The decoder's vocabulary of a model (built once: special tokens have no bytes, EOG ids end generation). */
export function decoderVocabulary(model: ChatModel): Vocabulary {
  let v = vocabularies.get(model);
  if (!v) {
    const { bytes, special, eog } = model.vocabulary;
    v = Vocabulary.fromTokenBytes(
      bytes.map((b, i) => (special[i] ? null : b)),
      { eosTokenIds: eog },
    );
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
      throw new InvalidRequestError(`Unsupported schema: ${error.message}`, {
        param: `${param}${at}`,
        code: 'invalid_value',
        cause: error,
      });
    }
    throw error;
  }
}

/** The schema of one call object in the model's syntax: `{"<name key>": "<tool>", "<arguments key>": {...}}`. */
function callSchema(model: ChatModel, tool: ChatTool, at: string): Record<string, unknown> {
  const { nameKey, argumentsKey } = model.syntax;
  // The parameters are a document of their own: their local `$ref`s are rebased to where they now sit.
  const args = embedSchemaAt(tool.parameters, `${at}/properties/${escapePointerToken(argumentsKey)}`);
  // Their draft moves to the wrapper's root (callsSchema), where `$schema` belongs.
  if (isObject(args)) delete args.$schema;
  return {
    type: 'object',
    properties: { [nameKey]: { const: tool.name }, [argumentsKey]: args },
    required: [nameKey, argumentsKey],
    additionalProperties: false,
  };
}

/**
 * The one grammar for the chosen tools' calls. A `$schema` the parameters declare (the draft their keywords follow)
 * moves to the wrapper's root; tools declaring different drafts cannot share one document and are refused.
 */
function callsSchema(model: ChatModel, chosen: readonly ChatTool[]): Record<string, unknown> {
  const drafts = new Set(chosen.map((t) => (isObject(t.parameters) ? t.parameters.$schema : undefined)));
  if (drafts.size > 1) {
    throw new InvalidRequestError('The chosen tools declare different $schema drafts; one request can use one draft.', {
      param: 'tools',
      code: 'invalid_value',
    });
  }
  const [draft] = drafts;
  const one = chosen.length === 1;
  const calls = chosen.map((t, i) => callSchema(model, t, one ? '' : `/anyOf/${i}`));
  const schema = one ? calls[0]! : { anyOf: calls };
  return typeof draft === 'string' ? { $schema: draft, ...schema } : schema;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
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
  const grammar = compileOrReject('tools', callsSchema(model, chosen));
  const vocabulary = decoderVocabulary(model);
  const parallel = request.parallelToolCalls && typeof toolChoice !== 'object';
  const markers = callMarkers(model.syntax, (text) => model.engine.tokenize(text, true), parallel);
  // Under "auto" the answer may be content instead: free text, or the response_format's JSON.
  const free = toolChoice === 'auto';
  const content = free ? contentGrammar(request) : null;
  const call =
    markers.open.length +
    new Matcher(grammar, vocabulary).shortestCompletion() +
    markers.close.length +
    markers.finish.length;
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
  const budget = budgetFor(
    request,
    new Matcher(content, vocabulary).shortestCompletion(),
    'JSON valid under the response format',
  );
  return matcherConstraint(content, vocabulary, budget);
}
