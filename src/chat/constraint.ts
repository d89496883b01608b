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
  return () => new ToolCallConstraint(grammar, vocabulary, markers, free, content);
}

/** The grammar `response_format` imposes on content, or null for free text. */
function contentGrammar(request: ChatRequest): Grammar | null {
  const format = request.responseFormat;
  if (format.type === 'json_object') return compileJsonSchema({ type: 'object' });
  if (format.type === 'json_schema') return compileOrReject('response_format.json_schema.schema', format.schema);
  return null;
}

function matcherConstraint(grammar: Grammar, vocabulary: Vocabulary): () => Constraint {
  return () => {
    const matcher = new Matcher(grammar, vocabulary);
    return {
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
  return content ? matcherConstraint(content, decoderVocabulary(model)) : null;
}
