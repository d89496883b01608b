import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensurePythonEnv, workerEnv } from '../../src/worker/index.js';

const interpreter = await ensurePythonEnv();

function python(args: string[]): string {
  const result = spawnSync(interpreter, args, { env: workerEnv(), encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`python ${args.slice(0, 2).join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/** Writes the tiny random-weight SD fixture (a 32 px diffusers folder) into `dir`; returns its path. */
export function makeTinySd(dir: string, seed = 0): string {
  const out = join(dir, 'tiny-sd');
  python(['-m', 'atelier_diffusion.fixtures.tiny', '--out', out, '--seed', String(seed)]);
  return out;
}

/**
 * Writes a random rank-4 LoRA (alpha 2) on every UNet attention projection of `base`, in diffusers' layout — the
 * shape of a DreamBooth LoRA result — and returns the file's path.
 */
export function makeLora(base: string, out: string): string {
  const script = `
import sys, torch
from atelier_diffusion.lora_files import LoraLayer, save_diffusers
from diffusers import UNet2DConditionModel
unet = UNet2DConditionModel.from_pretrained(sys.argv[1] + "/unet")
g = torch.Generator().manual_seed(0)
layers = [LoraLayer("unet", n, torch.randn(4, m.weight.shape[1], generator=g) * 0.3,
                    torch.randn(m.weight.shape[0], 4, generator=g) * 0.3, 2.0)
          for n, m in unet.named_modules() if n.endswith((".to_q", ".to_k", ".to_v", ".to_out.0"))]
save_diffusers(layers, sys.argv[2])
`;
  python(['-c', script, base, out]);
  return out;
}

/** The concatenated IDAT payload of a PNG: equal for equal pixels whatever the text chunks say. */
export function pngPixels(png: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let offset = 8; offset + 8 <= png.length; ) {
    const length = png.readUInt32BE(offset);
    if (png.toString('latin1', offset + 4, offset + 8) === 'IDAT')
      parts.push(png.subarray(offset + 8, offset + 8 + length));
    offset += 12 + length;
  }
  return Buffer.concat(parts);
}
