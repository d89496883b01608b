import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ModelFormat } from '../store/index.js';

/** A detected model: its format and the exact file or folder an engine should load. */
export interface DetectedModel {
  format: ModelFormat;
  /** The GGUF/.safetensors file, or the model folder. */
  path: string;
}

/** Thrown when a path holds nothing atelier can serve; the message lists what was looked for. */
export class UnknownModelFormatError extends Error {}

function readHead(path: string, length: number, position = 0): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const read = readSync(fd, buffer, 0, length, position);
    return buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

/** Whether a file starts with GGUF's magic bytes (`GGUF`, then a little-endian version). */
export function isGguf(path: string): boolean {
  return readHead(path, 4).toString('latin1') === 'GGUF';
}

/**
 * The tensor names in a .safetensors header (8-byte little-endian header length, then that much JSON). Refuses
 * headers over 100 MB, which no real checkpoint has, so a wrong file cannot make us allocate gigabytes.
 */
export function safetensorsKeys(path: string): string[] {
  const size = statSync(path).size;
  const head = readHead(path, 8);
  if (head.length < 8) throw new UnknownModelFormatError(`${path}: too short to be a .safetensors file`);
  const length = Number(head.readBigUInt64LE(0));
  if (length <= 1 || length > 100_000_000 || 8 + length > size) {
    throw new UnknownModelFormatError(`${path}: not a .safetensors file (header length ${length})`);
  }
  let header: unknown;
  try {
    header = JSON.parse(readHead(path, length, 8).toString('utf8'));
  } catch {
    throw new UnknownModelFormatError(`${path}: not a .safetensors file (header is not JSON)`);
  }
  if (typeof header !== 'object' || header === null) {
    throw new UnknownModelFormatError(`${path}: not a .safetensors file`);
  }
  return Object.keys(header).filter((key) => key !== '__metadata__');
}

/**
 * A single-file Stable Diffusion checkpoint (the original LDM layout that A1111/ComfyUI use) keeps the UNet under
 * `model.diffusion_model.`; SDXL and SD 1.x/2.x share that prefix.
 */
function isSdCheckpoint(path: string): boolean {
  return safetensorsKeys(path).some((key) => key.startsWith('model.diffusion_model.'));
}

function detectFile(path: string): DetectedModel {
  if (isGguf(path)) return { format: 'gguf', path };
  if (path.endsWith('.safetensors') && isSdCheckpoint(path)) return { format: 'sd-checkpoint', path };
  throw new UnknownModelFormatError(
    `${path}: not a GGUF file (no GGUF magic) and not a single-file Stable Diffusion .safetensors checkpoint`,
  );
}

function filesIn(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name);
}

/**
 * Detects what a file or folder holds:
 * - a file with GGUF magic → `gguf`; a `.safetensors` with LDM UNet keys → `sd-checkpoint`;
 * - a folder with `model_index.json` → `diffusers`; with `config.json` and `onnx/*.onnx` → `onnx` (transformers.js);
 * - a folder holding exactly one GGUF file or one SD `.safetensors` (and none of the above) → that file.
 * Throws UnknownModelFormatError naming what was missing otherwise.
 */
export function detectFormat(path: string): DetectedModel {
  if (!existsSync(path)) throw new UnknownModelFormatError(`${path}: no such file or folder`);
  if (!statSync(path).isDirectory()) return detectFile(path);
  if (existsSync(join(path, 'model_index.json'))) return { format: 'diffusers', path };
  const onnxDir = join(path, 'onnx');
  if (
    existsSync(join(path, 'config.json')) &&
    existsSync(onnxDir) &&
    filesIn(onnxDir).some((name) => name.endsWith('.onnx'))
  ) {
    return { format: 'onnx', path };
  }
  const files = filesIn(path);
  const ggufs = files.filter((name) => isGguf(join(path, name)));
  if (ggufs.length === 1) return { format: 'gguf', path: join(path, ggufs[0]!) };
  if (ggufs.length > 1) {
    throw new UnknownModelFormatError(
      `${path} holds ${ggufs.length} GGUF files (${ggufs.join(', ')}); pick one (e.g. pull with --include '${ggufs[0]}')`,
    );
  }
  const checkpoints = files.filter((name) => name.endsWith('.safetensors') && isSdCheckpoint(join(path, name)));
  if (checkpoints.length === 1) return { format: 'sd-checkpoint', path: join(path, checkpoints[0]!) };
  throw new UnknownModelFormatError(
    `${basename(path)}: no model atelier can serve — expected a GGUF file, a transformers.js ONNX folder ` +
      '(config.json + onnx/*.onnx), a diffusers folder (model_index.json) or a single-file SD .safetensors checkpoint',
  );
}
