import { generateLlamaGguf } from './llama-gguf.js';
import { generateLlamaOnnx } from './llama-onnx.js';
import { generateQwen2VlOnnx } from './qwen2vl-onnx.js';
import { generateTinyDiffusers } from './sd-diffusers.js';
import { generateSmolvlmOnnx } from './smolvlm-onnx.js';
import { generateVlmOnnx } from './vlm-onnx.js';

/**
 * Tiny real-format models that atelier generates itself from a seed, so the server and every test run with no
 * download: same seed → byte-identical files.
 */

/** Options passed to a demo model's generator. */
export interface DemoGenerateOptions {
  /** Seed of the weights; equal seeds give byte-identical files. */
  seed: number;
  /** Receives progress lines (default: silent). */
  log?: (line: string) => void;
}

/** One installable demo model. */
export interface DemoModelSpec {
  /** Stable registry name, e.g. `atelier-demo-gguf`. */
  name: string;
  /** Format the registry should detect for the returned path. */
  format: 'gguf' | 'onnx' | 'diffusers';
  /** true when generating needs the Python worker environment (slow the first time). */
  needsPython: boolean;
  /** One line for `atelier models`. */
  description: string;
  /** Writes the model under `targetDir` (created if missing) and returns the file or folder to register. */
  generate(targetDir: string, options: DemoGenerateOptions): Promise<string>;
}

/** Every demo model, in install order. */
export const demoModels: DemoModelSpec[] = [
  {
    name: 'atelier-demo-gguf',
    format: 'gguf',
    needsPython: false,
    description:
      'tiny random llama (2 blocks, 64 wide, GQA 4/2, 4096 ctx), byte-level BPE, ChatML + Hermes tools template',
    generate: (targetDir, { seed }) => generateLlamaGguf(targetDir, seed),
  },
  {
    name: 'atelier-demo-onnx',
    format: 'onnx',
    needsPython: false,
    description: 'the same tiny llama as atelier-demo-gguf, as a transformers.js ONNX decoder folder with KV cache',
    generate: (targetDir, { seed }) => generateLlamaOnnx(targetDir, seed),
  },
  {
    name: 'atelier-demo-vlm',
    format: 'onnx',
    needsPython: false,
    description:
      'tiny random vision-language model in the transformers.js Gemma 3 layout (SigLIP-style encoder, 16 tokens per image)',
    generate: (targetDir, { seed }) => generateVlmOnnx(targetDir, seed),
  },
  {
    name: 'atelier-demo-smolvlm',
    format: 'onnx',
    needsPython: false,
    description:
      'tiny random vision-language model in the transformers.js SmolVLM/Idefics3 layout (image tiles, pixel shuffle)',
    generate: (targetDir, { seed }) => generateSmolvlmOnnx(targetDir, seed),
  },
  {
    name: 'atelier-demo-qwen2vl',
    format: 'onnx',
    needsPython: false,
    description:
      'tiny random vision-language model in the transformers.js Qwen2-VL layout (flattened patches, M-RoPE, ChatML + tools)',
    generate: (targetDir, { seed }) => generateQwen2VlOnnx(targetDir, seed),
  },
  {
    name: 'atelier-demo-sd',
    format: 'diffusers',
    needsPython: true,
    description:
      'tiny random Stable Diffusion 1.x-shaped diffusers folder (UNet, VAE, CLIP text encoder), written by the Python worker',
    generate: (targetDir, options) => generateTinyDiffusers(targetDir, options),
  },
];

export { chatmlToolsTemplate, gemmaVisionTemplate, idefics3Template, qwen2VlTemplate } from './chat-template.js';
export { buildDemoTokenizer, tokenId, type DemoTokenizer } from './tokenizer.js';
export { generateLlamaGguf, type LlamaGgufOptions } from './llama-gguf.js';
