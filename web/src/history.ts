import { apiFetch, getJson, postJson, sendJson } from './api.js';

/** A saved chat as the list shows it. */
export interface ChatSummary {
  id: string;
  title: string;
  model: string;
  created_at: number;
  updated_at: number;
}

/** A saved chat with its messages and settings (the shapes the chat tab keeps; the server stores them as given). */
export interface SavedChat<M = unknown, S = Record<string, unknown>> extends ChatSummary {
  messages: M[];
  settings: S;
}

/** A generated image kept for the gallery (its PNG is at `/v1/studio/images/{id}/content`). */
export interface SavedImage {
  id: string;
  model: string;
  prompt: string;
  seed: number | null;
  /** The A1111 `parameters` text of the PNG. */
  parameters: string;
  /** The request's fields (size, steps, …) plus `batch` and `index` of the image in its batch. */
  settings: Record<string, unknown>;
  created_at: number;
}

/** What a chat is saved as. */
export interface ChatDraft<M, S> {
  title: string;
  model: string;
  messages: M[];
  settings: S;
}

const chats = '/v1/studio/chats';
const images = '/v1/studio/images';

/** The saved chats, most recently updated first. */
export async function listChats(): Promise<ChatSummary[]> {
  return (await getJson<{ data: ChatSummary[] }>(chats)).data;
}

/** One saved chat. */
export function getChat<M, S>(id: string): Promise<SavedChat<M, S>> {
  return getJson<SavedChat<M, S>>(`${chats}/${encodeURIComponent(id)}`);
}

/** Creates (`id` null) or replaces a saved chat. */
export function saveChat<M, S>(id: string | null, draft: ChatDraft<M, S>): Promise<SavedChat<M, S>> {
  return id === null ? postJson(chats, draft) : sendJson('PUT', `${chats}/${encodeURIComponent(id)}`, draft);
}

/** Deletes a saved chat. */
export async function deleteChat(id: string): Promise<void> {
  await sendJson('DELETE', `${chats}/${encodeURIComponent(id)}`);
}

/** A page of saved images, newest first. */
export function listImages(after?: string): Promise<{ data: SavedImage[]; has_more: boolean }> {
  const query = new URLSearchParams({ limit: '24' });
  if (after) query.set('after', after);
  return getJson(`${images}?${query}`);
}

/** Keeps a generated image. */
export function saveImage(image: Omit<SavedImage, 'id' | 'created_at'> & { b64_png: string }): Promise<SavedImage> {
  return postJson(images, image);
}

/** Deletes a kept image. */
export async function deleteImage(id: string): Promise<void> {
  await sendJson('DELETE', `${images}/${encodeURIComponent(id)}`);
}

/** A `blob:` URL of a kept image's PNG (fetched with the API key, which an `<img src>` could not send). */
export async function imageBlobUrl(id: string): Promise<string> {
  const response = await apiFetch(`${images}/${encodeURIComponent(id)}/content`);
  return URL.createObjectURL(await response.blob());
}

/** A saved form's values (null when never saved). */
export async function loadForm<T>(name: string): Promise<T | null> {
  return (await getJson<{ value: T | null }>(`/v1/studio/forms/${name}`)).value;
}

/** Saves a form's values. */
export async function saveForm(name: string, value: unknown): Promise<void> {
  await sendJson('PUT', `/v1/studio/forms/${name}`, { value });
}
