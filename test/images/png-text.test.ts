import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { parseA1111Parameters, readPngText } from '../../src/images/index.js';

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  return Buffer.concat([length, Buffer.from(type, 'latin1'), data, Buffer.alloc(4)]);
}

const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

test('reads tEXt, zTXt and iTXt chunks', () => {
  const png = Buffer.concat([
    signature,
    chunk('tEXt', Buffer.from('parameters\0a dog\nSteps: 2, Seed: 1', 'latin1')),
    chunk('zTXt', Buffer.concat([Buffer.from('zipped\0\0', 'latin1'), deflateSync(Buffer.from('hello'))])),
    chunk('iTXt', Buffer.concat([Buffer.from('utf\0\0\0en\0\0', 'latin1'), Buffer.from('chien 🐕', 'utf8')])),
    chunk('IEND', Buffer.alloc(0)),
  ]);
  assert.deepEqual(readPngText(png), { parameters: 'a dog\nSteps: 2, Seed: 1', zipped: 'hello', utf: 'chien 🐕' });
  assert.throws(() => readPngText(Buffer.from('GIF89a')), /not a PNG/);
});

test('parses A1111 parameters, quoted values included', () => {
  const text =
    'a photo of sks dog\non the moon\nNegative prompt: blurry, dark\n' +
    'Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 7.5, Seed: 42, Size: 512x768, Model: "ft:tiny:dog:1234"';
  assert.deepEqual(parseA1111Parameters(text), {
    prompt: 'a photo of sks dog\non the moon',
    negative_prompt: 'blurry, dark',
    Steps: '30',
    Sampler: 'DPM++ 2M Karras',
    'CFG scale': '7.5',
    Seed: '42',
    Size: '512x768',
    Model: 'ft:tiny:dog:1234',
  });
  assert.deepEqual(parseA1111Parameters('just a prompt'), { prompt: 'just a prompt', negative_prompt: '' });
});
