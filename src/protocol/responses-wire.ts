/**
 * Wire shapes of OpenAI's Responses API as atelier answers them (openai-node `resources/responses`): the `response`
 * object, its output items and the streamed events. snake_case lives here only.
 */
import type { JsonValue } from './chat-wire.js';

/** `output_text` content of an assistant message. */
export interface WireOutputText {
  type: 'output_text';
  text: string;
  annotations: never[];
  logprobs: never[];
}

/** An output item. `image_generation_call` carries atelier's `seed` and `model` besides OpenAI's fields. */
export type WireResponseItem =
  | {
      type: 'message';
      id: string;
      role: 'assistant';
      status: 'in_progress' | 'completed' | 'incomplete';
      content: WireOutputText[];
    }
  | {
      type: 'function_call';
      id: string;
      call_id: string;
      name: string;
      arguments: string;
      status: 'in_progress' | 'completed' | 'incomplete';
    }
  | {
      type: 'image_generation_call';
      id: string;
      status: 'in_progress' | 'generating' | 'completed' | 'failed';
      /** Base64 PNG once completed. */
      result: string | null;
      revised_prompt: string;
      output_format: 'png';
      size: string | null;
      seed: number | null;
      model: string | null;
    };

/** `usage` of a response. */
export interface WireResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/** The `response` object (`GET /v1/responses/{id}` answers the stored one). */
export interface WireResponse {
  id: string;
  object: 'response';
  created_at: number;
  completed_at: number | null;
  status: 'in_progress' | 'completed' | 'incomplete' | 'failed';
  error: { code: string; message: string } | null;
  incomplete_details: { reason: 'max_output_tokens' } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  model: string;
  output: WireResponseItem[];
  /** Convenience concatenation of the output text (the SDK recomputes it; raw HTTP clients get it too). */
  output_text: string;
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  store: boolean;
  temperature: number;
  top_p: number;
  text: JsonValue;
  tool_choice: JsonValue;
  tools: JsonValue[];
  truncation: 'disabled';
  background: false;
  metadata: Record<string, string>;
  usage: WireResponseUsage | null;
}

/** One streamed event: its `type` plus the fields OpenAI sends with it, and the stream's `sequence_number`. */
export interface WireResponseEvent {
  type: string;
  sequence_number: number;
  [field: string]: unknown;
}
