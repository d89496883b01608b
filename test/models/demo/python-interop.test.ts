import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AutoProcessor, AutoTokenizer, env, RawImage, type Tensor } from '@huggingface/transformers';
import { generateLlamaOnnx } from '../../../src/models/demo/llama-onnx.js';
import { generateQwen2VlOnnx } from '../../../src/models/demo/qwen2vl-onnx.js';
import { generateSmolvlmOnnx } from '../../../src/models/demo/smolvlm-onnx.js';
import { generateVlmOnnx } from '../../../src/models/demo/vlm-onnx.js';
import { ensurePythonEnv, workerEnv } from '../../../src/worker/index.js';

env.allowRemoteModels = false;

const texts = [
  '{"name": "Ada", "age": 36} héllo ✓',
  "It's   21.5°C\n\nin Paris!",
  '<|im_start|>user\n<tool_call>{}</tool_call>',
];
const messages = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Weather?' },
  {
    role: 'assistant',
    content: '',
    tool_calls: [{ type: 'function', function: { name: 'get_weather', arguments: { city: 'Paris' } } }],
  },
  { role: 'tool', content: '21' },
];
const tools = [
  {
    type: 'function',
    function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
  },
];
const vlmMessages = [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'What is this?' }] }];
const smolMessages = [
  ...vlmMessages,
  { role: 'assistant', content: [{ type: 'text', text: 'A cat.' }] },
  { role: 'user', content: 'And?' },
];

// Reads the folders with the reference Python libraries (tokenizers, jinja2, transformers' config and processor
// classes) and prints what they make of them, for comparison with transformers.js. (Python's SmolVLM and
// Qwen2-VL processors need torchvision, which the worker's environment does not pin, so only their configs and
// templates are compared.)
const script = `
import json, sys
import numpy as np
from PIL import Image
from transformers import AutoConfig, AutoProcessor, AutoTokenizer
text_dir, vlm_dir, smol_dir, qwen_dir, case = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5])
tok = AutoTokenizer.from_pretrained(text_dir)
processor = AutoProcessor.from_pretrained(vlm_dir)
prompt = processor.apply_chat_template(case["vlm_messages"], add_generation_prompt=True)
image = Image.fromarray(np.zeros((30, 40, 3), dtype=np.uint8))
print(json.dumps({
  "ids": [tok.encode(t) for t in case["texts"]],
  "decoded": [tok.decode(tok.encode(t)) for t in case["texts"]],
  "chat": tok.apply_chat_template(case["messages"], tools=case["tools"], add_generation_prompt=True, tokenize=False),
  "configs": [type(AutoConfig.from_pretrained(d)).__name__ for d in (text_dir, vlm_dir, smol_dir, qwen_dir)],
  "qwen_prompt": AutoTokenizer.from_pretrained(qwen_dir).apply_chat_template(case["smol_messages"], tools=case["tools"], add_generation_prompt=True, tokenize=False),
  "smol_prompt": AutoTokenizer.from_pretrained(smol_dir).apply_chat_template(case["smol_messages"], add_generation_prompt=True, tokenize=False),
  "processor": type(processor).__name__,
  "vlm_prompt": prompt,
  "vlm_ids": list(processor(text=prompt, images=image)["input_ids"][0]),
}))
`;

describe('demo folders under the reference Python libraries', () => {
  let root: string;
  let textDir: string;
  let vlmDir: string;
  let smolDir: string;
  let qwenDir: string;
  let python: Record<string, unknown>;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'atelier-pyinterop-'));
    textDir = await generateLlamaOnnx(join(root, 'text'), 0);
    vlmDir = await generateVlmOnnx(join(root, 'vlm'), 0);
    smolDir = await generateSmolvlmOnnx(join(root, 'smolvlm'), 0);
    qwenDir = await generateQwen2VlOnnx(join(root, 'qwen2vl'), 0);
    const result = spawnSync(
      await ensurePythonEnv(),
      [
        '-c',
        script,
        textDir,
        vlmDir,
        smolDir,
        qwenDir,
        JSON.stringify({ texts, messages, tools, vlm_messages: vlmMessages, smol_messages: smolMessages }),
      ],
      { env: workerEnv({ OMP_NUM_THREADS: '1' }), encoding: 'utf8' },
    );
    assert.equal(result.status, 0, result.stderr);
    python = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('loads the configs and processor as the real classes', () => {
    assert.deepEqual(python.configs, ['LlamaConfig', 'Gemma3Config', 'SmolVLMConfig', 'Qwen2VLConfig']);
    assert.equal(python.processor, 'Gemma3Processor');
  });

  it('tokenizes (Rust tokenizers) exactly as transformers.js does', async () => {
    const tokenizer = await AutoTokenizer.from_pretrained(textDir, { local_files_only: true });
    assert.deepEqual(
      python.ids,
      texts.map((t) => tokenizer.encode(t)),
    );
    assert.deepEqual(python.decoded, texts);
  });

  it('renders the chat template with jinja2 exactly as @huggingface/jinja does', async () => {
    const tokenizer = await AutoTokenizer.from_pretrained(textDir, { local_files_only: true });
    const js = tokenizer.apply_chat_template(messages as never, {
      tools,
      add_generation_prompt: true,
      tokenize: false,
    });
    assert.equal(python.chat, js);
  });

  it('renders the SmolVLM template identically (capitalised roles, image parts, string content)', async () => {
    const tokenizer = await AutoTokenizer.from_pretrained(smolDir, { local_files_only: true });
    const js = tokenizer.apply_chat_template(smolMessages as never, { add_generation_prompt: true, tokenize: false });
    assert.equal(python.smol_prompt, js);
  });

  it('renders the Qwen2-VL template (images and tools) identically', async () => {
    const tokenizer = await AutoTokenizer.from_pretrained(qwenDir, { local_files_only: true });
    const js = tokenizer.apply_chat_template(smolMessages as never, {
      tools,
      add_generation_prompt: true,
      tokenize: false,
    });
    assert.ok(String(js).includes('<|vision_start|><|image_pad|><|vision_end|>What is this?'));
    assert.equal(python.qwen_prompt, js);
  });

  it('expands image placeholders into the same ids in both processors', async () => {
    const processor = await AutoProcessor.from_pretrained(vlmDir, { local_files_only: true });
    const prompt = processor.apply_chat_template(vlmMessages as never, { add_generation_prompt: true }) as string;
    assert.equal(python.vlm_prompt, prompt);
    const inputs = await processor(prompt, new RawImage(new Uint8ClampedArray(40 * 30 * 3), 40, 30, 3));
    assert.deepEqual(python.vlm_ids, ((inputs.input_ids as Tensor).tolist() as bigint[][])[0]?.map(Number));
  });
});
