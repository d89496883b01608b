// Public face of src/images: text-to-image through the resident diffusion worker, PNG metadata, exports.
export {
  ImageGenerator,
  toImageError,
  type GeneratedImage,
  type GenerateOptions,
  type ImageDefaults,
  type ImageGeneratorOptions,
  type ImageProgress,
  type ResolvedImageRequest,
} from './image-generator.js';
export { isImageModel, modelSource, nativeSize, type ModelSource } from './model-source.js';
export { parseA1111Parameters, readPngText } from './png-text.js';
export { exportFormats, exportModel, type ExportFormat, type ExportResult } from './exporter.js';
