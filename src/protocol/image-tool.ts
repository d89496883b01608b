/**
 * The built-in `image_generation` tool, shared by `/v1/responses` (OpenAI's hosted tool) and `/v1/chat/completions`
 * (an atelier extension): its validation, the function the model calls to use it (a prompt, constrained by the
 * decoder like any call), the image request it runs, and the generated image as a chat message shows it.
 */
import type { ChatTool, ChatToolChoice } from './chat-request.js';
import { FINGERPRINT, type CompletionMeta } from './chat-response.js';
import type { WireChatCompletionChunk } from './chat-wire.js';
import { parseImageRequest, type ImageRequest } from './images.js';
import { fail, isObj, onlyKeys, type Obj } from './request-fields.js';

/** Name the built-in tool has inside the model's prompt (a function tool it can call). */
export const IMAGE_TOOL_NAME = 'image_generation';

/** What the model is told after an image it asked for was made (the picture itself is never in the prompt). */
export const IMAGE_TOOL_RESULT = 'The image was generated and is shown to the user.';

/**
 * A validated `{type: "image_generation", …}` tool: OpenAI's fields (`model` names an atelier image model, e.g. a
 * DreamBooth result; `size`; `quality`, `background`, `moderation`, `output_format: "png"`, `partial_images` accepted
 * and ignored) plus atelier's `steps`, `guidance_scale`, `seed`, `negative_prompt`, `sampler`.
 */
export interface ImageToolOptions {
  /** The `/v1/images/generations` body the tool runs, minus `prompt` (which the model writes). */
  body: Record<string, unknown>;
}

const IMAGE_TOOL_KEYS = [
  'type',
  'model',
  'size',
  'quality',
  'background',
  'moderation',
  'output_format',
  'partial_images',
  'steps',
  'guidance_scale',
  'seed',
  'negative_prompt',
  'sampler',
];

/** Validates the tool object at `at` (`tools[i]`) exactly as `/v1/images/generations` validates its body. */
export function parseImageTool(t: Obj, at: string): ImageToolOptions {
  onlyKeys(t, IMAGE_TOOL_KEYS, at);
  if (t.output_format !== undefined && t.output_format !== 'png')
    fail("atelier makes PNGs only: output_format must be 'png'", `${at}.output_format`, 'invalid_value');
  const { model, size, steps, guidance_scale, seed, negative_prompt, sampler } = t;
  const body = Object.fromEntries(
    Object.entries({ model, size, steps, guidance_scale, seed, negative_prompt, sampler }).filter(
      ([, v]) => v !== undefined,
    ),
  );
  try {
    parseImageRequest({ ...body, prompt: 'check' });
  } catch (error) {
    const e = error as { param?: string | null; message: string };
    fail(e.message, `${at}.${e.param ?? 'type'}`, 'invalid_value');
  }
  return { body };
}

/**
 * Chat completions' `tools` with the `image_generation` entry taken out (atelier's extension there): `rest` goes to
 * the function-tool parser unchanged, so its `tools[i]` paths stay right when the image tool comes last.
 */
export function splitImageTool(tools: unknown, n: number): { rest: unknown; imageTool: ImageToolOptions | null } {
  if (!Array.isArray(tools)) return { rest: tools, imageTool: null };
  const at = tools.findIndex((t) => isObj(t) && t.type === IMAGE_TOOL_NAME);
  if (at < 0) return { rest: tools, imageTool: null };
  if (tools.findIndex((t, i) => i > at && isObj(t) && t.type === IMAGE_TOOL_NAME) >= 0)
    fail('at most one image_generation tool', 'tools', 'invalid_value');
  if (tools.some((t) => isObj(t) && isObj(t.function) && t.function.name === IMAGE_TOOL_NAME)) {
    fail(`a function may not be named '${IMAGE_TOOL_NAME}' next to the built-in tool`, 'tools', 'invalid_value');
  }
  if (n > 1) fail('the image_generation tool takes n: 1', 'n', 'invalid_value');
  return { rest: tools.filter((_, i) => i !== at), imageTool: parseImageTool(tools[at] as Obj, `tools[${at}]`) };
}

/** `tool_choice: {type: "image_generation"}` as the call it forces; null for any other choice. */
export function imageToolChoice(choice: unknown, tool: ImageToolOptions | null): ChatToolChoice | null {
  if (!isObj(choice) || choice.type !== IMAGE_TOOL_NAME) return null;
  if (!tool) fail('tool_choice image_generation requires an image_generation tool', 'tool_choice', 'invalid_value');
  return { name: IMAGE_TOOL_NAME };
}

/** The function tool the model calls to ask for an image. */
export const imageToolFunction: ChatTool = {
  name: IMAGE_TOOL_NAME,
  description: 'Draw an image from a text prompt; the image is shown to the user.',
  parameters: {
    type: 'object',
    properties: { prompt: { type: 'string', minLength: 1, maxLength: 1000, description: 'What the image shows' } },
    required: ['prompt'],
    additionalProperties: false,
  },
  strict: true,
};

/** The image request the tool runs for `prompt`. */
export function imageToolRequest(tool: ImageToolOptions, prompt: string): ImageRequest {
  return parseImageRequest({ ...tool.body, prompt });
}

/**
 * A generated image in a chat-completion message (`message.images`, and a streamed `delta.images`): atelier's
 * extension, since chat completions has no image output of its own.
 */
export interface WireGeneratedImage {
  /** The PNG, base64. */
  b64_json: string;
  /** The prompt the model wrote. */
  revised_prompt: string;
  /** The tool call that asked for it (not listed in `tool_calls`: atelier answered it). */
  tool_call_id: string;
  model: string;
  size: string;
  seed: number;
}

/** The chunk that streams a chat answer's tool images (`delta.images`, with the role so it may come first). */
export function imagesChunk(meta: CompletionMeta, images: WireGeneratedImage[]): WireChatCompletionChunk {
  return {
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
    system_fingerprint: FINGERPRINT,
    choices: [{ index: 0, delta: { role: 'assistant', images }, logprobs: null, finish_reason: null }],
  };
}
