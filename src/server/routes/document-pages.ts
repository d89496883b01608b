/**
 * `POST /v1/studio/document-pages`: the pages of a PDF drawn small, for the studio's attachment thumbnails, read
 * exactly as a chat request reads it (same reading thread, limits and 400s), so what the user sees before sending is
 * what the model will get: every page, and whether it has a text layer.
 */
import sharp from 'sharp';
import { previewDocument } from '../../chat/index.js';
import { InvalidRequestError, parseFilePart } from '../../protocol/index.js';
import type { RoutePlugin } from '../create-server.js';
import { documentOptionsFromConfig } from '../document-options.js';

/** Longest side of a thumbnail, in pixels. */
const THUMBNAIL_SIDE = 160;

/** One drawn page as the studio gets it. */
interface WirePage {
  page: number;
  width: number;
  height: number;
  /** `data:image/png;base64,…` */
  image: string;
  /** Whether the page has a text layer (a scan has none: text-only models refuse it). */
  has_text: boolean;
}

/** The route; body `{file_data: "data:application/pdf;base64,…", filename?}` or `{file_id}` (OpenAI's `file` part). */
export function documentPagesRoutes(): RoutePlugin {
  return (app, deps) => {
    const documents = documentOptionsFromConfig(deps.config, deps.store);
    app.post('/v1/studio/document-pages', async (request) => {
      if (request.body === null || typeof request.body !== 'object')
        throw new InvalidRequestError('The body must be a JSON object', { param: null });
      const part = parseFilePart(request.body, '');
      const doc = await previewDocument(part, THUMBNAIL_SIDE, 'file', documents);
      const data: WirePage[] = [];
      for (const page of doc.pages) {
        if (!page.image) continue;
        const { width, height, rgba } = page.image;
        const png = await sharp(rgba, { raw: { width, height, channels: 4 } })
          .png()
          .toBuffer();
        data.push({
          page: page.number,
          width,
          height,
          image: `data:image/png;base64,${png.toString('base64')}`,
          has_text: page.text !== '',
        });
      }
      return { object: 'list', filename: doc.filename, data };
    });
  };
}
