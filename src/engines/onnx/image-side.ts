/**
 * The longest image side a transformers.js image processor works at, read from its `preprocessor_config.json`, so a
 * caller that draws the image itself (a PDF page) draws it at that size: larger is wasted (the processor shrinks it),
 * smaller loses legibility the model could have had.
 */

/** The parts of a `preprocessor_config.json` that fix the working size, across processor families. */
export interface ProcessorSizeConfig {
  /** `{height, width}` (SigLIP, Gemma 3), `{longest_edge}` (Idefics3, SmolVLM), `{shortest_edge}` (CLIP, LLaVA). */
  size?: { height?: number; width?: number; longest_edge?: number; shortest_edge?: number };
  /** Qwen2-VL: the image is resized to at most this many pixels. */
  max_pixels?: number;
  /** CLIP-style processors crop to this after resizing the shortest edge. */
  crop_size?: { height?: number; width?: number };
}

/** Used when a processor declares no size at all: the common SigLIP/CLIP input side. */
const FALLBACK_SIDE = 448;

/**
 * The side in pixels: `longest_edge`, the larger of `height`/`width`, √`max_pixels`, the crop or shortest edge, else
 * the vision tower's `image_size`, else 448.
 */
export function processorImageSide(config: ProcessorSizeConfig | null, visionConfig?: { image_size?: number }): number {
  const size = config?.size ?? {};
  if (size.longest_edge) return size.longest_edge;
  if (size.height || size.width) return Math.max(size.height ?? 0, size.width ?? 0);
  if (config?.max_pixels) return Math.floor(Math.sqrt(config.max_pixels));
  const crop = config?.crop_size;
  if (crop && (crop.height || crop.width)) return Math.max(crop.height ?? 0, crop.width ?? 0);
  if (size.shortest_edge) return size.shortest_edge;
  return visionConfig?.image_size ?? FALLBACK_SIDE;
}
