import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { isImageModel, type ImageGenerator } from '../../images/index.js';
import {
  ApiError,
  imageCompletedToWire,
  imageProgressToWire,
  imagesResponseToWire,
  InvalidRequestError,
  NotFoundError,
  parseImageRequest,
  type ImageRequest,
  type ImagesResponse,
} from '../../protocol/index.js';
import type { ModelRecord } from '../../store/index.js';
import type { RoutePlugin, ServerDeps } from '../create-server.js';
import { openSse, type SseStream } from '../sse.js';

const imageFile = /^[A-Za-z0-9_-]{1,80}\.png$/;

/**
 * The model a request names, or the first served image model when it names none. Unknown, unserved and non-image
 * models are a 400 on `model` (OpenAI's images endpoint answers a bad model with 400, not 404).
 */
export function imageModel(deps: ServerDeps, name: string | undefined): ModelRecord {
  if (name === undefined) {
    const first = deps.models.list().find(isImageModel);
    if (!first) throw new InvalidRequestError('No image model is installed; pass `model`', { param: 'model' });
    return first;
  }
  let model: ModelRecord;
  try {
    model = deps.models.require(name);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
    throw new InvalidRequestError(`The model '${name}' does not exist`, { param: 'model', code: 'model_not_found' });
  }
  return model;
}

/**
 * `POST /v1/images/generations` in OpenAI's shape (b64_json or url) with atelier's extensions, and `GET /images/:file`
 * serving the PNGs that `url` answers point at. The image route sits outside `/v1` so an `<img src>` works without
 * an API key; names are 16 random characters per request, never listed.
 */
export function imageRoutes(generator: ImageGenerator): RoutePlugin {
  return (app, deps) => {
    app.addHook('onClose', () => generator.close());
    app.post('/v1/images/generations', async (request, reply): Promise<ImagesResponse | undefined> => {
      const body = parseImageRequest(request.body);
      const model = imageModel(deps, body.model);
      if (body.stream) return streamImages(generator, model, body, openSse(reply, deps.scrubber));
      // A client that hangs up cancels its request in the worker between denoising steps.
      const abort = new AbortController();
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) abort.abort();
      });
      const images = await generator.generate(model, body, { signal: abort.signal });
      const base = deps.publicUrl();
      const shown = await Promise.all(
        images.map(async (image) =>
          body.responseFormat === 'url'
            ? { seed: image.seed, url: `${base}/images/${image.file}` }
            : { seed: image.seed, b64Json: (await readFile(image.path)).toString('base64') },
        ),
      );
      return imagesResponseToWire(body.prompt, shown, now());
    });

    app.get('/images/:file', async (request, reply) => {
      const { file } = request.params as { file: string };
      const path = join(generator.outputDir, file);
      if (!imageFile.test(file) || !existsSync(path)) throw new NotFoundError(`No image named '${file}'`);
      return reply.type('image/png').header('cache-control', 'private, max-age=86400').send(createReadStream(path));
    });
  };
}

const now = (): number => Math.floor(Date.now() / 1000);

/**
 * `stream: true`: progress per denoising step as `image_generation.progress` (atelier's event), then OpenAI's
 * `image_generation.completed` per image, then `[DONE]`. A failure after the stream opened is an `error` event,
 * which openai-node raises as an APIError. The stream's disconnect signal cancels the work in the worker.
 */
async function streamImages(
  generator: ImageGenerator,
  model: ModelRecord,
  body: ImageRequest,
  sse: SseStream,
): Promise<undefined> {
  try {
    const resolved = generator.resolve(model, body);
    const images = await generator.generate(
      model,
      { ...body, seed: resolved.seed },
      {
        signal: sse.signal,
        onProgress: (progress) => void sse.send(imageProgressToWire(progress, now())),
      },
    );
    for (const [index, image] of images.entries()) {
      const b64Json = (await readFile(image.path)).toString('base64');
      const { width, height } = resolved;
      await sse.send(imageCompletedToWire({ index, seed: image.seed, b64Json, width, height }, now()));
    }
    await sse.done();
  } catch (error) {
    await sse.fail(error);
  }
  return undefined;
}
