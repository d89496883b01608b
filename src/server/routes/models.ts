import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isImageModel, nativeSize } from '../../images/index.js';
import { modelDeletedToWire, modelListToWire, modelToWire, type ModelView } from '../../protocol/index.js';
import type { ModelRecord } from '../../store/index.js';
import type { RoutePlugin } from '../create-server.js';

/** `hf:org/repo` → `org`; demo → `atelier`; local files and fine-tunes → `user`. */
function ownerOf(model: ModelRecord): string {
  if (model.source.startsWith('hf:')) return model.source.slice(3).split('/')[0] ?? 'huggingface';
  if (model.source === 'demo') return 'atelier';
  return 'user';
}

/** Whether an ONNX folder is a vision-language model (its config has a `vision_config`, as the ONNX engine reads it). */
function takesImages(model: ModelRecord): boolean {
  const config = join(model.path, 'config.json');
  if (model.format !== 'onnx' || !existsSync(config)) return false;
  try {
    return (JSON.parse(readFileSync(config, 'utf8')) as { vision_config?: unknown }).vision_config !== undefined;
  } catch {
    return false;
  }
}

/**
 * What the `model` object shows of an installed model, with what it takes (so UIs can say so before a 400): chat
 * models all do constrained JSON and tool calls, some take images; image models carry their native size, a LoRA
 * says it is one.
 */
function modelView(model: ModelRecord): ModelView {
  const view: ModelView = {
    name: model.name,
    createdAt: model.createdAt,
    ownedBy: ownerOf(model),
    format: model.format,
  };
  if (isImageModel(model)) {
    view.capabilities = typeof model.metadata.lora === 'string' ? ['image', 'lora'] : ['image'];
    view.nativeSize = nativeSize(model);
  } else {
    view.capabilities = takesImages(model) ? ['vision', 'tools', 'json'] : ['tools', 'json'];
  }
  return view;
}

/**
 * `GET /v1/models`, `GET /v1/models/{id}`, `DELETE /v1/models/{id}` in OpenAI's format. Ids may contain `/`
 * (`org/repo`); openai-node escapes it as `%2F`, other clients send it raw, so the id is the rest of the path.
 */
export const modelRoutes: RoutePlugin = (app, deps) => {
  // The router has already percent-decoded the wildcard (`%2F` included); decoding again would break on `%`.
  const idOf = (params: unknown): string => (params as { '*': string })['*'];
  app.get('/v1/models', async () => modelListToWire(deps.models.list().map(modelView)));
  app.get('/v1/models/*', async (request) => modelToWire(modelView(deps.models.require(idOf(request.params)))));
  app.delete('/v1/models/*', async (request) => {
    const model = deps.models.require(idOf(request.params));
    deps.registry.remove(model.name);
    return modelDeletedToWire(model.name);
  });
};
