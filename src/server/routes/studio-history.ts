import { cursorPage, InvalidRequestError, NotFoundError, parseCursorParams } from '../../protocol/index.js';
import { StudioRepo, type StudioChat, type StudioImage } from '../../store/index.js';
import { newId } from '../../util/index.js';
import type { RoutePlugin } from '../create-server.js';

type Body = Record<string, unknown>;

const now = (): number => Math.floor(Date.now() / 1000);

function objectBody(body: unknown): Body {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new InvalidRequestError('The body must be a JSON object.');
  return body as Body;
}

function text(body: Body, key: string, fallback?: string): string {
  const value = body[key] ?? fallback;
  if (typeof value !== 'string') throw new InvalidRequestError(`'${key}' must be a string.`, { param: key });
  return value;
}

function record(body: Body, key: string): Record<string, unknown> {
  const value = body[key] ?? {};
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new InvalidRequestError(`'${key}' must be an object.`, { param: key });
  return value as Record<string, unknown>;
}

function chatToWire(chat: StudioChat, full: boolean) {
  const head = {
    id: chat.id,
    object: 'studio.chat' as const,
    title: chat.title,
    model: chat.model,
    created_at: chat.createdAt,
    updated_at: chat.updatedAt,
  };
  return full ? { ...head, settings: chat.settings, messages: chat.messages } : head;
}

function imageToWire(image: StudioImage) {
  return {
    id: image.id,
    object: 'studio.image' as const,
    model: image.model,
    prompt: image.prompt,
    seed: image.seed,
    parameters: image.parameters,
    settings: image.settings,
    created_at: image.createdAt,
  };
}

/** A chat from a POST/PUT body: title, model, settings (object) and messages (array). */
function chatFromBody(body: Body, id: string, createdAt: number): StudioChat {
  const messages = body.messages ?? [];
  if (!Array.isArray(messages)) throw new InvalidRequestError("'messages' must be an array.", { param: 'messages' });
  const title = text(body, 'title', '').trim().slice(0, 200) || 'New chat';
  return {
    id,
    title,
    model: text(body, 'model', ''),
    settings: record(body, 'settings'),
    messages,
    createdAt,
    updatedAt: now(),
  };
}

/** The bytes of a base64 PNG, refused unless they start with the PNG signature. */
function pngBytes(body: Body): Buffer {
  const bytes = Buffer.from(text(body, 'b64_png'), 'base64');
  if (bytes.length < 8 || bytes.readUInt32BE(0) !== 0x89504e47)
    throw new InvalidRequestError("'b64_png' is not a base64 PNG.", { param: 'b64_png' });
  return bytes;
}

/**
 * The web studio's history under `/v1/studio` (so bearer auth and the browser guard cover it like the rest of the
 * API): chats (`/chats`, `/chats/{id}`: list, create, read, replace, delete), generated images (`/images`, newest
 * first with `after`/`limit`, `/images/{id}/content` for the PNG, delete) and saved form settings
 * (`/forms/{name}`: read, replace).
 */
export const studioHistoryRoutes: RoutePlugin = (app, { store }) => {
  const repo = new StudioRepo(store.db);
  const chat = (id: string): StudioChat => {
    const found = repo.getChat(id);
    if (!found) throw new NotFoundError(`No chat with id '${id}'.`, { param: 'id', code: 'chat_not_found' });
    return found;
  };
  const image = (id: string): StudioImage => {
    const found = repo.getImage(id);
    if (!found) throw new NotFoundError(`No image with id '${id}'.`, { param: 'id', code: 'image_not_found' });
    return found;
  };
  type Id = { Params: { id: string } };
  app.get('/v1/studio/chats', async () => ({
    object: 'list',
    data: repo.listChats().map((c) => chatToWire(c, false)),
  }));
  app.post('/v1/studio/chats', async (request) =>
    chatToWire(repo.saveChat(chatFromBody(objectBody(request.body), newId('chat'), now())), true),
  );
  app.get<Id>('/v1/studio/chats/:id', async (request) => chatToWire(chat(request.params.id), true));
  app.put<Id>('/v1/studio/chats/:id', async (request) => {
    const old = chat(request.params.id);
    return chatToWire(repo.saveChat(chatFromBody(objectBody(request.body), old.id, old.createdAt)), true);
  });
  app.delete<Id>('/v1/studio/chats/:id', async (request) => {
    repo.deleteChat(chat(request.params.id).id);
    return { id: request.params.id, object: 'studio.chat', deleted: true };
  });

  app.get('/v1/studio/images', async (request) => {
    const { after, limit } = parseCursorParams(request.query, 24);
    const { data, hasMore } = repo.listImages({ after: after ?? undefined, limit });
    return cursorPage(data.map(imageToWire), hasMore);
  });
  app.post('/v1/studio/images', async (request) => {
    const body = objectBody(request.body);
    const seed = body.seed ?? null;
    if (seed !== null && !Number.isSafeInteger(seed))
      throw new InvalidRequestError("'seed' must be an integer or null.", { param: 'seed' });
    const fields: StudioImage = {
      id: newId('img'),
      model: text(body, 'model'),
      prompt: text(body, 'prompt', ''),
      seed: seed as number | null,
      parameters: text(body, 'parameters', ''),
      settings: record(body, 'settings'),
      createdAt: now(),
    };
    return imageToWire(repo.addImage(fields, pngBytes(body)));
  });
  app.get<Id>('/v1/studio/images/:id/content', async (request, reply) => {
    const png = repo.imagePng(image(request.params.id).id);
    return reply.type('image/png').send(png);
  });
  app.delete<Id>('/v1/studio/images/:id', async (request) => {
    repo.deleteImage(image(request.params.id).id);
    return { id: request.params.id, object: 'studio.image', deleted: true };
  });

  type Name = { Params: { name: string } };
  const formName = (name: string): string => {
    if (!/^[a-z][a-z0-9-]{0,40}$/.test(name))
      throw new InvalidRequestError(`Unknown form name '${name}'.`, { param: 'name' });
    return name;
  };
  app.get<Name>('/v1/studio/forms/:name', async (request) => {
    const name = formName(request.params.name);
    return { object: 'studio.form', name, value: repo.getForm(name) };
  });
  app.put<Name>('/v1/studio/forms/:name', async (request) => {
    const name = formName(request.params.name);
    const body = objectBody(request.body);
    repo.saveForm(name, body.value ?? null, now());
    return { object: 'studio.form', name, value: repo.getForm(name) };
  });
};
