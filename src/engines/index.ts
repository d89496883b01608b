// Public face of src/engines: the Engine interface and its adapters.
export * from './engine.js';
export * from './token-bytes.js';
export { GgufEngine, type GgufEngineOptions } from './gguf/gguf-engine.js';
export { OnnxEngine, type OnnxEngineOptions } from './onnx/onnx-engine.js';
export { Sampler, seededRandom, type SampleResult } from './sampler.js';
