import fastifyMultipart from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import {
  filePurposes,
  InvalidRequestError,
  NotFoundError,
  parseCursorParams,
  PayloadTooLargeError,
  type CursorPageWire,
  type FileDeletedWire,
  type FileObjectWire,
} from '../../protocol/index.js';
import type { BlobRef, FileRecord, Store } from '../../store/index.js';
import { newId } from '../../util/index.js';
import type { RoutePlugin } from '../create-server.js';

/** Options of the files routes. */
export interface FilesRoutesOptions {
  /** Largest accepted upload in bytes; default 512 MiB (OpenAI's limit; a zip of photos is far smaller). */
  maxFileBytes?: number;
}

/** The `file` object of a stored file. */
export function fileToWire(file: FileRecord): FileObjectWire {
  return {
    id: file.id,
    object: 'file',
    bytes: file.bytes,
    created_at: file.createdAt,
    filename: file.filename,
    purpose: file.purpose,
    status: file.status as FileObjectWire['status'],
    status_details: null,
    expires_at: null,
  };
}

function requireFile(store: Store, id: string): FileRecord {
  const file = store.files.get(id);
  if (!file) throw new NotFoundError(`No such File object: ${id}`, { param: 'file_id', code: 'file_not_found' });
  return file;
}

/** Reads a multipart upload: the `purpose` field and the `file` part streamed into the blob store. */
async function readUpload(request: FastifyRequest, store: Store, maxBytes: number) {
  if (!request.isMultipart()) {
    throw new InvalidRequestError('Uploads must be multipart/form-data with fields `file` and `purpose`.', {
      param: 'file',
    });
  }
  let purpose: string | null = null;
  let upload: { blob: BlobRef; filename: string } | null = null;
  try {
    for await (const part of request.parts({ limits: { fileSize: maxBytes, files: 1, fields: 10 } })) {
      if (part.type === 'field') {
        if (part.fieldname === 'purpose') purpose = String(part.value);
      } else if (part.fieldname === 'file' && upload === null) {
        const blob = await store.blobs.putStream(part.file);
        // busboy truncates silently at the limit; `truncated` is how an oversized upload shows.
        if (part.file.truncated) {
          dropUnreferenced(store, blob.sha256);
          throw new PayloadTooLargeError(`File exceeds the limit of ${maxBytes} bytes.`);
        }
        upload = { blob, filename: part.filename || 'upload' };
      } else {
        part.file.resume();
      }
    }
  } catch (error) {
    if (error instanceof PayloadTooLargeError || error instanceof InvalidRequestError) throw error;
    const code = (error as { code?: string }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE') throw new PayloadTooLargeError(`File exceeds the limit of ${maxBytes} bytes.`);
    throw new InvalidRequestError(`Could not read the upload: ${(error as Error).message}`, { param: 'file' });
  }
  return { purpose, upload };
}

function dropUnreferenced(store: Store, sha256: string): void {
  if (store.files.countBySha(sha256) === 0) store.blobs.remove(sha256);
}

async function createFile(request: FastifyRequest, store: Store, maxBytes: number): Promise<FileObjectWire> {
  const { purpose, upload } = await readUpload(request, store, maxBytes);
  if (upload === null) throw new InvalidRequestError("Missing required parameter: 'file'.", { param: 'file' });
  if (purpose === null || !(filePurposes as readonly string[]).includes(purpose)) {
    dropUnreferenced(store, upload.blob.sha256);
    const message = purpose === null ? "Missing required parameter: 'purpose'." : `Invalid purpose: '${purpose}'.`;
    throw new InvalidRequestError(`${message} Use one of ${filePurposes.join(', ')}.`, { param: 'purpose' });
  }
  const record: FileRecord = {
    id: newId('file'),
    filename: upload.filename,
    purpose,
    bytes: upload.blob.size,
    sha256: upload.blob.sha256,
    status: 'processed',
    metadata: {},
    createdAt: Math.floor(Date.now() / 1000),
  };
  store.files.insert(record);
  return fileToWire(record);
}

function listFiles(store: Store, query: Record<string, unknown>): CursorPageWire<FileObjectWire> {
  const { after, limit } = parseCursorParams(query, 10_000, 10_000);
  const order = query.order ?? 'desc';
  if (order !== 'asc' && order !== 'desc') {
    throw new InvalidRequestError("'order' must be 'asc' or 'desc'.", { param: 'order' });
  }
  const purpose = typeof query.purpose === 'string' && query.purpose !== '' ? query.purpose : undefined;
  const all = store.files.list({ purpose });
  if (order === 'asc') all.reverse();
  const start = after === null ? 0 : all.findIndex((file) => file.id === after) + 1;
  if (after !== null && start === 0) {
    throw new InvalidRequestError(`No such File object: ${after}`, { param: 'after' });
  }
  const data = all.slice(start, start + limit).map(fileToWire);
  return {
    object: 'list',
    data,
    has_more: start + limit < all.length,
    first_id: data[0]?.id ?? null,
    last_id: data[data.length - 1]?.id ?? null,
  };
}

/**
 * `/v1/files`: upload (multipart `file` + `purpose`), list (`purpose`, `order`, cursor `after`/`limit`), retrieve,
 * delete and `/content`. Bytes live in the content-addressed blob store; a blob is removed with its last file.
 */
export function filesRoutes(options: FilesRoutesOptions = {}): RoutePlugin {
  const maxBytes = options.maxFileBytes ?? 512 * 1024 * 1024;
  return async (app, { store }) => {
    // Registered here, encapsulated, unless the app already has it: only uploads need multipart parsing.
    if (!app.hasRequestDecorator('parts')) await app.register(fastifyMultipart);
    app.post('/v1/files', async (request) => createFile(request, store, maxBytes));
    app.get('/v1/files', async (request) => listFiles(store, request.query as Record<string, unknown>));
    app.get<{ Params: { id: string } }>('/v1/files/:id', async (request) =>
      fileToWire(requireFile(store, request.params.id)),
    );
    app.delete<{ Params: { id: string } }>('/v1/files/:id', async (request): Promise<FileDeletedWire> => {
      const file = requireFile(store, request.params.id);
      store.files.delete(file.id);
      dropUnreferenced(store, file.sha256);
      return { id: file.id, object: 'file', deleted: true };
    });
    app.get<{ Params: { id: string } }>('/v1/files/:id/content', async (request, reply) => {
      const file = requireFile(store, request.params.id);
      return reply
        .header('content-type', 'application/octet-stream')
        .header('content-length', String(file.bytes))
        .header('content-disposition', `attachment; filename="${file.filename.replace(/["\\\r\n]/g, '_')}"`)
        .send(store.blobs.read(file.sha256));
    });
  };
}
