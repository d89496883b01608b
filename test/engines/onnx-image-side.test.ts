/** The image side read from each processor family's preprocessor_config.json (what PDF pages are rendered at). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { processorImageSide } from '../../src/engines/onnx/image-side.js';

describe('processorImageSide', () => {
  it('reads the working size of each processor family', () => {
    assert.equal(processorImageSide({ size: { height: 896, width: 896 } }), 896, 'Gemma 3 / SigLIP');
    assert.equal(processorImageSide({ size: { longest_edge: 1456 } }), 1456, 'Idefics3 / SmolVLM');
    assert.equal(processorImageSide({ max_pixels: 1003520 }), 1001, 'Qwen2-VL pixel budget');
    assert.equal(
      processorImageSide({ size: { shortest_edge: 336 }, crop_size: { height: 336, width: 336 } }),
      336,
      'CLIP / LLaVA',
    );
    assert.equal(processorImageSide(null, { image_size: 384 }), 384, 'the vision tower');
    assert.equal(processorImageSide(null), 448);
  });
});
