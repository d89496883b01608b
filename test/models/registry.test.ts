import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectFormat, installDemos, ModelRegistry, type DemoModelSpec } from '../../src/models/index.js';
import { openStore } from '../../src/store/index.js';

function tempDir(t: { after: (fn: () => void) => void }, label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `atelier-${label}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function safetensors(path: string, keys: string[]): void {
  const header = Buffer.from(
    JSON.stringify(Object.fromEntries(keys.map((k) => [k, { dtype: 'F32', shape: [1], data_offsets: [0, 4] }]))),
  );
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  writeFileSync(path, Buffer.concat([length, header, Buffer.alloc(4 * keys.length)]));
}

test('format detection covers GGUF, ONNX, diffusers and single-file SD checkpoints', (t) => {
  const dir = tempDir(t, 'detect');
  writeFileSync(join(dir, 'm.gguf'), Buffer.from('GGUF\x03\0\0\0rest'));
  assert.deepEqual(detectFormat(join(dir, 'm.gguf')), { format: 'gguf', path: join(dir, 'm.gguf') });
  writeFileSync(join(dir, 'fake.gguf'), 'not gguf');
  assert.throws(() => detectFormat(join(dir, 'fake.gguf')), /no GGUF magic/);

  safetensors(join(dir, 'sd.safetensors'), ['model.diffusion_model.input_blocks.0.0.weight', 'first_stage_model.x']);
  assert.equal(detectFormat(join(dir, 'sd.safetensors')).format, 'sd-checkpoint');
  safetensors(join(dir, 'lora.safetensors'), ['lora_unet_down.weight']);
  assert.throws(
    () => detectFormat(join(dir, 'lora.safetensors')),
    /not a GGUF file .* and not a single-file Stable Diffusion/,
  );
  writeFileSync(join(dir, 'junk.safetensors'), Buffer.alloc(16, 0xff));
  assert.throws(() => detectFormat(join(dir, 'junk.safetensors')), /not a \.safetensors file/);

  const onnx = join(dir, 'onnx-model');
  mkdirSync(join(onnx, 'onnx'), { recursive: true });
  writeFileSync(join(onnx, 'config.json'), '{}');
  assert.throws(() => detectFormat(onnx), /no model atelier can serve/);
  writeFileSync(join(onnx, 'onnx', 'model.onnx'), 'x');
  assert.deepEqual(detectFormat(onnx), { format: 'onnx', path: onnx });

  const sd = join(dir, 'sd');
  mkdirSync(sd);
  writeFileSync(join(sd, 'model_index.json'), '{"_class_name":"StableDiffusionPipeline"}');
  assert.equal(detectFormat(sd).format, 'diffusers');

  assert.throws(() => detectFormat(join(dir, 'missing')), /no such file or folder/);
  assert.deepEqual(
    detectFormat(dir),
    { format: 'gguf', path: join(dir, 'm.gguf') },
    'one GGUF in a folder is the model',
  );
  writeFileSync(join(dir, 'm2.gguf'), Buffer.from('GGUF\x03\0\0\0other'));
  assert.throws(() => detectFormat(dir), /holds 2 GGUF files \(m.gguf, m2.gguf\)/);
});

test('models add copies, rm deletes only the store copy, names are validated', (t) => {
  const home = tempDir(t, 'home');
  const src = tempDir(t, 'src');
  const store = openStore(home);
  t.after(() => store.close());
  const registry = new ModelRegistry(store);
  writeFileSync(join(src, 'tiny.gguf'), Buffer.from('GGUF\x03\0\0\0abc'));
  const model = registry.addLocal(join(src, 'tiny.gguf'));
  assert.equal(model.name, 'tiny');
  assert.equal(model.format, 'gguf');
  assert.equal(model.size, 11);
  assert.equal(model.source, `local:${join(src, 'tiny.gguf')}`);
  assert.ok(model.path.startsWith(join(home, 'models')));
  assert.throws(() => registry.addLocal(join(src, 'tiny.gguf')), /already installed/);
  const replaced = registry.addLocal(join(src, 'tiny.gguf'), { replace: true });
  assert.notEqual(replaced.path, model.path);
  assert.equal(existsSync(model.path), false, 'the replaced copy is deleted');
  assert.throws(() => registry.addLocal(join(src, 'tiny.gguf'), { name: '../evil' }), /invalid model name/);
  assert.throws(() => registry.addLocal(join(src, 'nothing')), /no such file or folder/);
  registry.remove('tiny');
  assert.deepEqual(readdirSync(join(home, 'models')), []);
  assert.ok(existsSync(join(src, 'tiny.gguf')), 'the original is untouched');
  assert.throws(
    () => registry.remove('tiny'),
    (e: Error & { status?: number }) => e.status === 404 && /does not exist/.test(e.message),
  );
});

test('removing an adapter keeps the base model it shares files with, and deletes its own weights', (t) => {
  const home = tempDir(t, 'lora');
  const src = tempDir(t, 'lora-src');
  const store = openStore(home);
  t.after(() => store.close());
  const registry = new ModelRegistry(store);
  const sd = join(src, 'sd');
  mkdirSync(sd);
  writeFileSync(join(sd, 'model_index.json'), '{}');
  const base = registry.addLocal(sd, { name: 'base-sd' });
  const loraDir = join(home, 'models', 'ft-lora-abc');
  mkdirSync(loraDir);
  writeFileSync(join(loraDir, 'lora.safetensors'), 'weights');
  store.models.put({
    ...base,
    name: 'ft:base-sd:x:1',
    source: 'fine-tune:ftjob-1',
    metadata: { lora: join(loraDir, 'lora.safetensors') },
  });
  registry.remove('ft:base-sd:x:1');
  assert.ok(existsSync(join(base.path, 'model_index.json')), 'the base folder survives');
  assert.equal(existsSync(loraDir), false, 'the adapter weights are deleted');
  registry.remove('base-sd');
  assert.deepEqual(readdirSync(join(home, 'models')), []);
});

test('demo models install under stable names; failures and missing Python are reported, not thrown', async (t) => {
  const home = tempDir(t, 'demo');
  const store = openStore(home);
  t.after(() => store.close());
  const registry = new ModelRegistry(store);
  const specs: DemoModelSpec[] = [
    {
      name: 'demo-gguf',
      format: 'gguf',
      needsPython: false,
      generate: async (dir, { seed }) => {
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'model.gguf'), Buffer.from(`GGUF\x03\0\0\0${seed}`));
        return join(dir, 'model.gguf');
      },
    },
    {
      name: 'demo-broken',
      format: 'onnx',
      needsPython: false,
      generate: async () => {
        throw new Error('boom');
      },
    },
    {
      name: 'demo-sd',
      format: 'diffusers',
      needsPython: true,
      generate: async () => {
        throw new Error('must not run');
      },
    },
  ];
  const lines: string[] = [];
  const result = await installDemos(registry, specs, { pythonReady: false, seed: 7, log: (l) => lines.push(l) });
  assert.deepEqual(
    result.installed.map((m) => [m.name, m.format, m.source]),
    [['demo-gguf', 'gguf', 'demo']],
  );
  assert.deepEqual(
    result.skipped.map((s) => s.name),
    ['demo-broken', 'demo-sd'],
  );
  assert.match(result.skipped[0]!.reason, /generation failed: boom/);
  assert.match(result.skipped[1]!.reason, /Python environment/);
  const second = await installDemos(registry, specs.slice(0, 1), { pythonReady: false });
  assert.deepEqual(
    second.present.map((m) => m.name),
    ['demo-gguf'],
  );
  assert.deepEqual(
    readdirSync(join(home, 'tmp')).filter((n) => n !== 'blobs'),
    [],
    'no staging folder is left behind',
  );
  const stale = registry.stagingPath('crashed');
  const fresh = registry.stagingPath('running');
  mkdirSync(stale);
  mkdirSync(fresh);
  utimesSync(stale, new Date(Date.now() - 2 * 86400_000), new Date(Date.now() - 2 * 86400_000));
  registry.sweepStaging();
  assert.equal(existsSync(stale), false, 'a day-old staging folder is swept');
  assert.equal(existsSync(fresh), true, 'a recent one may be in use and stays');
});
