/**
 * Jinja chat templates of the demo models, written for @huggingface/jinja (what transformers.js and node-llama-cpp
 * render with) and for Python's jinja2 alike.
 */

/**
 * Builds a ChatML template with Hermes-style tools, shaped like Qwen2.5's: the tools are listed as JSON lines inside
 * `<tools></tools>` in the system turn; an assistant's calls are `<tool_call>\n{"name": …, "arguments": …}\n</tool_call>`;
 * tool results come back in a user turn wrapped in `<tool_response>`. `add_generation_prompt` opens an assistant
 * turn. With `vision`, content may also be a list of parts, and each image part is written as Qwen2-VL's
 * `<|vision_start|><|image_pad|><|vision_end|>`.
 */
function chatmlTemplate(vision: boolean): string {
  const body = vision ? 'render(message.content)' : 'message.content';
  const system = vision ? 'render(messages[0].content)' : 'messages[0].content';
  const macro = [
    '{%- macro render(content) %}{%- if content is string %}{{- content }}{%- else %}{%- for part in content %}',
    "{%- if part.type == 'image' or part.type == 'image_url' %}{{- '<|vision_start|><|image_pad|><|vision_end|>' }}",
    "{%- elif part.type == 'text' %}{{- part.text }}{%- endif %}",
    '{%- endfor %}{%- endif %}{%- endmacro %}',
  ];
  return [
    ...(vision ? macro : []),
    '{%- if tools %}',
    "{{- '<|im_start|>system\\n' }}",
    `{%- if messages[0].role == 'system' %}{{- ${system} + '\\n\\n' }}{%- endif %}`,
    "{{- '# Tools\\n\\nYou can call these functions, described as JSON schemas inside <tools></tools>:\\n<tools>' }}",
    "{%- for tool in tools %}{{- '\\n' + (tool | tojson) }}{%- endfor %}",
    "{{- '\\n</tools>\\n\\nTo call one, answer with a JSON object holding its name and arguments between tags:\\n' }}",
    '{{- \'<tool_call>\\n{"name": <function-name>, "arguments": <args-json-object>}\\n</tool_call><|im_end|>\\n\' }}',
    "{%- elif messages[0].role == 'system' %}",
    `{{- '<|im_start|>system\\n' + ${system} + '<|im_end|>\\n' }}`,
    '{%- endif %}',
    '{%- for message in messages %}',
    "{%- if message.role == 'user' or (message.role == 'system' and not loop.first) %}",
    `{{- '<|im_start|>' + message.role + '\\n' + ${body} + '<|im_end|>\\n' }}`,
    "{%- elif message.role == 'assistant' %}",
    "{{- '<|im_start|>assistant' }}",
    `{%- if message.content %}{{- '\\n' + ${body} }}{%- endif %}`,
    '{%- if message.tool_calls %}{%- for tool_call in message.tool_calls %}',
    '{%- if tool_call.function is defined %}{%- set tool_call = tool_call.function %}{%- endif %}',
    '{{- \'\\n<tool_call>\\n{"name": "\' + tool_call.name + \'", "arguments": \' }}',
    '{%- if tool_call.arguments is string %}{{- tool_call.arguments }}{%- else %}{{- tool_call.arguments | tojson }}{%- endif %}',
    "{{- '}\\n</tool_call>' }}",
    '{%- endfor %}{%- endif %}',
    "{{- '<|im_end|>\\n' }}",
    "{%- elif message.role == 'tool' %}",
    "{%- if loop.first or messages[loop.index0 - 1].role != 'tool' %}{{- '<|im_start|>user' }}{%- endif %}",
    `{{- '\\n<tool_response>\\n' + ${body} + '\\n</tool_response>' }}`,
    "{%- if loop.last or messages[loop.index0 + 1].role != 'tool' %}{{- '<|im_end|>\\n' }}{%- endif %}",
    '{%- endif %}',
    '{%- endfor %}',
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}",
  ].join('\n');
}

/** The text models' template: ChatML with Hermes-style tools (see {@link chatmlTemplate}); string content only. */
export const chatmlToolsTemplate = chatmlTemplate(false);

/** The Qwen2-VL demo's template: the same turns and tools, plus image parts as Qwen2-VL vision tokens. */
export const qwen2VlTemplate = chatmlTemplate(true);

/**
 * Gemma 3 style turns for the vision-language demo: `<start_of_turn>user … <end_of_turn>`, the assistant role named
 * `model`, a system message folded into the first user turn (Gemma has no system role), and each image content part
 * written as `<start_of_image>`, which the Gemma 3 processor expands into the image's soft tokens. Content may be a
 * string or a list of `{type: 'text'|'image'|'image_url'}` parts.
 */
export const gemmaVisionTemplate = [
  '{{- bos_token }}',
  "{%- if messages[0].role == 'system' %}",
  '{%- if messages[0].content is string %}{%- set first_prefix = messages[0].content + "\\n\\n" %}',
  "{%- else %}{%- set first_prefix = messages[0].content[0].text + '\\n\\n' %}{%- endif %}",
  '{%- set loop_messages = messages[1:] %}',
  "{%- else %}{%- set first_prefix = '' %}{%- set loop_messages = messages %}{%- endif %}",
  '{%- for message in loop_messages %}',
  "{%- set role = 'model' if message.role == 'assistant' else message.role %}",
  "{{- '<start_of_turn>' + role + '\\n' + (first_prefix if loop.first else '') }}",
  '{%- if message.content is string %}{{- message.content }}',
  '{%- else %}{%- for part in message.content %}',
  "{%- if part.type == 'image' or part.type == 'image_url' %}{{- '<start_of_image>' }}",
  "{%- elif part.type == 'text' %}{{- part.text }}{%- endif %}",
  '{%- endfor %}{%- endif %}',
  "{{- '<end_of_turn>\\n' }}",
  '{%- endfor %}',
  "{%- if add_generation_prompt %}{{- '<start_of_turn>model\\n' }}{%- endif %}",
].join('\n');

/**
 * Idefics3/SmolVLM style turns for the SmolVLM demo: one `<|im_start|>` opens the conversation, each turn is
 * `Role: …<end_of_utterance>\n` (roles capitalised), each image part is written as `<image>` (which the Idefics3
 * processor expands into tiles and soft tokens), and `add_generation_prompt` ends with `Assistant:`. Content may be
 * a string or a list of `{type: 'text'|'image'|'image_url'}` parts.
 */
export const idefics3Template = [
  "{{- '<|im_start|>' }}",
  '{%- for message in messages %}',
  '{{- message.role | capitalize }}',
  '{%- if message.content is string %}{{- ": " + message.content }}',
  '{%- else %}',
  "{%- if message.content[0].type == 'image' or message.content[0].type == 'image_url' %}{{- ':' }}{%- else %}{{- ': ' }}{%- endif %}",
  '{%- for part in message.content %}',
  "{%- if part.type == 'text' %}{{- part.text }}{%- elif part.type == 'image' or part.type == 'image_url' %}{{- '<image>' }}{%- endif %}",
  '{%- endfor %}',
  '{%- endif %}',
  "{{- '<end_of_utterance>\\n' }}",
  '{%- endfor %}',
  "{%- if add_generation_prompt %}{{- 'Assistant:' }}{%- endif %}",
].join('\n');
