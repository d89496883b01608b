/** Wire shapes of `/v1/models` (OpenAI's `model` object and list) and their converters. */

/** OpenAI's model object. `format` is atelier's addition (clients ignore unknown fields) so UIs can tell kinds apart. */
export interface ModelObject {
  id: string;
  object: 'model';
  /** Unix seconds. */
  created: number;
  owned_by: string;
  format: string;
  /** atelier's addition: what the model takes (`vision`, `tools`, `json` for chat; `image` for diffusion). */
  capabilities?: string[];
  /** atelier's addition, image models only: the square size in pixels it was trained at (its default size). */
  native_size?: number;
}

/** `GET /v1/models`: every served model at once (OpenAI does not paginate this list). */
export interface ModelListWire {
  object: 'list';
  data: ModelObject[];
}

/** Body of `DELETE /v1/models/{id}`. */
export interface ModelDeletedWire {
  id: string;
  object: 'model';
  deleted: boolean;
}

/** What the model object shows of an installed model. */
export interface ModelView {
  /** The model id (`org/repo`, `atelier-demo-gguf`, `ft:…`). */
  name: string;
  /** Unix seconds. */
  createdAt: number;
  /** Who it is from: the hub organisation, `atelier` for demos, `user` otherwise. */
  ownedBy: string;
  /** `gguf`, `onnx`, `diffusers`, `sd-checkpoint`. */
  format: string;
  /** What it takes: `vision`, `tools`, `json`, `image`. */
  capabilities?: string[];
  /** Image models: the native square size in pixels. */
  nativeSize?: number;
}

/** The `model` object. */
export function modelToWire(model: ModelView): ModelObject {
  const wire: ModelObject = {
    id: model.name,
    object: 'model',
    created: model.createdAt,
    owned_by: model.ownedBy,
    format: model.format,
  };
  if (model.capabilities) wire.capabilities = model.capabilities;
  if (model.nativeSize !== undefined) wire.native_size = model.nativeSize;
  return wire;
}

/** The list of `model` objects. */
export function modelListToWire(models: readonly ModelView[]): ModelListWire {
  return { object: 'list', data: models.map(modelToWire) };
}

/** The answer to deleting model `id`. */
export function modelDeletedToWire(id: string): ModelDeletedWire {
  return { id, object: 'model', deleted: true };
}
