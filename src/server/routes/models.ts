import type { ModelRecord } from '../../store/index.js';
import type { RoutePlugin } from '../create-server.js';

/** OpenAI's model object. `format` is atelier's addition (clients ignore unknown fields) so UIs can tell kinds apart. */
export interface ModelObject {
  id: string;
  object: 'model';
  /** Unix seconds. */
  created: number;
  owned_by: string;
  format: string;
}

/** `hf:org/repo` → `org`; demo → `atelier`; local files and fine-tunes → `user`. */
function ownerOf(model: ModelRecord): string {
  if (model.source.startsWith('hf:')) return model.source.slice(3).split('/')[0] ?? 'huggingface';
  if (model.source === 'demo') return 'atelier';
  return 'user';
}

/** The OpenAI wire form of an installed model. */
export function toModelObject(model: ModelRecord): ModelObject {
  return { id: model.name, object: 'model', created: model.createdAt, owned_by: ownerOf(model), format: model.format };
}

/**
 * `GET /v1/models`, `GET /v1/models/{id}`, `DELETE /v1/models/{id}` in OpenAI's format. Ids may contain `/`
 * (`org/repo`); openai-node escapes it as `%2F`, other clients send it raw, so the id is the rest of the path.
 */
export const modelRoutes: RoutePlugin = (app, deps) => {
  // The router has already percent-decoded the wildcard (`%2F` included); decoding again would break on `%`.
  const idOf = (params: unknown): string => (params as { '*': string })['*'];
  app.get('/v1/models', async () => ({ object: 'list', data: deps.models.list().map(toModelObject) }));
  app.get('/v1/models/*', async (request) => toModelObject(deps.models.require(idOf(request.params))));
  app.delete('/v1/models/*', async (request) => {
    const model = deps.models.require(idOf(request.params));
    deps.registry.remove(model.name);
    return { id: model.name, object: 'model', deleted: true };
  });
};
