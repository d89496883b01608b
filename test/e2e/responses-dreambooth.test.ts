/**
 * The end-to-end claim on a real DreamBooth result: `atelier train` makes a fine-tuned model of the tiny SD,
 * the demo GGUF chat model is forced to call the built-in `image_generation` tool with it through `/v1/responses`
 * (official `openai` client), and the PNG it returns has the pixels `atelier generate` draws with the same prompt,
 * seed and parameters.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type OpenAI from 'openai';
import { buildProgram, type CliDeps } from '../../src/cli/index.js';
import { makeTinySd, pngPixels } from '../images/fixtures.js';
import { subjectPhoto } from '../personalize/subject-photos.js';
import { startResponsesHarness, type ResponsesHarness } from './responses-harness.js';

/** Runs an `atelier …` command line in-process (the real program), returning what it printed. */
async function atelier(...args: string[]): Promise<string> {
  let out = '';
  const deps: CliDeps = {
    version: '0.0.0',
    demoModels: [],
    python: { isReady: () => true, ensure: async () => undefined },
    routes: () => [],
    out: (text) => void (out += text),
    err: () => undefined,
  };
  await buildProgram(deps).parseAsync(['node', 'atelier', ...args]);
  assert.equal(process.exitCode ?? 0, 0, `atelier ${args.join(' ')} failed`);
  return out;
}

type ImageCall = { type: 'image_generation_call'; result: string; revised_prompt: string; seed: number };

describe('image_generation on a DreamBooth result matches atelier generate', () => {
  let h: ResponsesHarness;
  let model: string;
  before(async () => {
    h = await startResponsesHarness(['atelier-demo-gguf'], { images: true });
    h.registry.addLocal(makeTinySd(h.home), { name: 'tiny-sd' });
    const photos = join(h.home, 'photos');
    mkdirSync(photos);
    for (let i = 0; i < 3; i++) writeFileSync(join(photos, `dog-${i}.png`), subjectPhoto(i));
    const out = await atelier(
      '--home',
      h.home,
      'train',
      '--subject',
      photos,
      '--class',
      'dog',
      '--model',
      'tiny-sd',
      '--resolution',
      '32',
      '--steps',
      '2',
      '--no-prior',
      '--suffix',
      'sks-dog',
    );
    model = /fine-tuned model: (ft:tiny-sd:sks-dog:\S+)/.exec(out)?.[1] ?? '';
    assert.ok(model, out);
  });
  after(() => h.close());

  it('draws the fine-tuned model with the same pixels as the CLI', async () => {
    const r = await h.client.responses.create({
      model: 'atelier-demo-gguf',
      input: 'Draw my dog on the moon',
      max_output_tokens: 120,
      tools: [
        {
          type: 'image_generation',
          model,
          size: '32x32',
          steps: 3,
          seed: 7,
          guidance_scale: 5,
        } as unknown as OpenAI.Responses.Tool,
      ],
      tool_choice: { type: 'image_generation' },
    });
    const call = r.output.find((i) => i.type === 'image_generation_call') as unknown as ImageCall;
    assert.equal(call.seed, 7);
    const out = join(h.home, 'cli-out');
    const printed = await atelier(
      '--home',
      h.home,
      'generate',
      '--seed',
      '7',
      '--size',
      '32x32',
      '--steps',
      '3',
      '--guidance',
      '5',
      '--out',
      out,
      '--',
      model,
      call.revised_prompt,
    );
    assert.match(printed, /7\.png/);
    const cli = readFileSync(join(out, '7.png'));
    assert.deepEqual(pngPixels(Buffer.from(call.result, 'base64')), pngPixels(cli));
  });
});
