import fastifyMultipart from '@fastify/multipart';
import { create as contentDisposition } from 'content-disposition';
import type { FastifyRequest } from 'fastify';
import {
  fileDeletedToWire,
  filePurposes,
  fileToWire,
  InvalidRequestError,
  NotFoundError,
  pageOf,
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

/**
 * `content-disposition: attachment` for a stored name, per RFC 6266: an ASCII `filename` fallback plus
 * `filename*=UTF-8''…` (RFC 5987) for anything else. The `content-disposition` package does the quoting and encoding
 * (pinned at 2.x, whose engines fit Node 20); control characters and lone surrogates are replaced first, since a
 * browser must not be handed a name containing them even percent-encoded.
 */
export function attachmentDisposition(filename: string): string {
  const clean = filename
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is being removed
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '_');
  return contentDisposition(clean || 'download', { type: 'attachment' });
}

function requireFile(store: Store, id: string): FileRecord {
  const file = store.files.get(id);
  if (!file) throw new NotFoundError(`No such File object: ${id}`, { param: 'file_id', code: 'file_not_found' });
  return file;
}

// Fields an upload may carry (`purpose` and a few a client library adds): a bound on parsing work.
const maxFields = 10;

/** An upload's blob, held until its row is inserted or it is dropped. */
interface Upload {
  blob: BlobRef;
  filename: string;
  release: () => void;
}

/** Maps a multipart parsing failure onto OpenAI's 413/400. */
function uploadError(error: unknown, maxBytes: number): Error {
  if (error instanceof PayloadTooLargeError || error instanceof InvalidRequestError) return error;
  const code = (error as { code?: string }).code;
  if (code === 'FST_REQ_FILE_TOO_LARGE')
    return new PayloadTooLargeError(`File exceeds the limit of ${maxBytes} bytes.`);
  if (code === 'FST_FILES_LIMIT')
    return new InvalidRequestError('An upload holds exactly one file part, `file`.', { param: 'file' });
  if (code === 'FST_FIELDS_LIMIT' || code === 'FST_PARTS_LIMIT') {
    return new InvalidRequestError(`An upload holds at most ${maxFields} fields besides \`file\`.`, { param: null });
  }
  return new InvalidRequestError(`Could not read the upload: ${(error as Error).message}`, { param: 'file' });
}

/**
 * Reads a multipart upload: the `purpose` field and the `file` part streamed into the blob store. `onBlob` receives
 * the stored blob at once, so the caller can drop it if anything later in the body fails.
 */
async function readUpload(
  request: FastifyRequest,
  store: Store,
  maxBytes: number,
  onBlob: (upload: Upload) => void,
): Promise<string | null> {
  if (!request.isMultipart()) {
    throw new InvalidRequestError('Uploads must be multipart/form-data with fields `file` and `purpose`.', {
      param: 'file',
    });
  }
  let purpose: string | null = null;
  let seenFile = false;
  try {
    for await (const part of request.parts({ limits: { fileSize: maxBytes, files: 1, fields: maxFields } })) {
      if (part.type === 'field') {
        if (part.fieldname === 'purpose') purpose = String(part.value);
      } else if (part.fieldname === 'file' && !seenFile) {
        seenFile = true;
        const blob = await store.blobs.putStream(part.file);
        onBlob({ blob, filename: part.filename || 'upload', release: store.blobs.hold(blob.sha256) });
        // busboy truncates silently at the limit; `truncated` is how an oversized upload shows.
        if (part.file.truncated) throw new PayloadTooLargeError(`File exceeds the limit of ${maxBytes} bytes.`);
      } else {
        part.file.resume();
      }
    }
  } catch (error) {
    throw uploadError(error, maxBytes);
  }
  return purpose;
}

/** Removes a blob unless a row references it or an upload in flight holds it. */
function dropUnreferenced(store: Store, sha256: string): void {
  if (store.files.countBySha(sha256) === 0 && !store.blobs.isHeld(sha256)) store.blobs.remove(sha256);
}

function checkPurpose(purpose: string | null): string {
  if (purpose !== null && (filePurposes as readonly string[]).includes(purpose)) return purpose;
  const message = purpose === null ? "Missing required parameter: 'purpose'." : `Invalid purpose: '${purpose}'.`;
  throw new InvalidRequestError(`${message} Use one of ${filePurposes.join(', ')}.`, { param: 'purpose' });
}

/** Stores an upload; any failure after its bytes were written (bad purpose, a later part, a 413) drops the blob. */
async function createFile(request: FastifyRequest, store: Store, maxBytes: number): Promise<FileObjectWire> {
  // Filled by readUpload as soon as the bytes are stored, so `finally` sees a blob even when reading fails later.
  const held: { upload: Upload | null } = { upload: null };
  let inserted = false;
  try {
    const purpose = await readUpload(request, store, maxBytes, (upload) => (held.upload = upload));
    const upload = held.upload;
    if (upload === null) throw new InvalidRequestError("Missing required parameter: 'file'.", { param: 'file' });
    const record: FileRecord = {
      id: newId('file'),
      filename: upload.filename,
      purpose: checkPurpose(purpose),
      bytes: upload.blob.size,
      sha256: upload.blob.sha256,
      status: 'processed',
      metadata: {},
      createdAt: Math.floor(Date.now() / 1000),
    };
    store.files.insert(record);
    inserted = true;
    return fileToWire(record);
  } finally {
    held.upload?.release();
    if (held.upload && !inserted) dropUnreferenced(store, held.upload.blob.sha256);
  }
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
  return pageOf(all, { after, limit }, 'File', fileToWire);
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
    // Leftovers of uploads a crash or kill interrupted: temp files of dead writers, and blobs no file row references.
    app.addHook('onReady', async () => {
      const temp = store.blobs.sweepTemp();
      const blobs = store.blobs.sweepUnreferenced((sha256) => store.files.countBySha(sha256) > 0);
      if (temp + blobs > 0) app.log.info(`swept ${temp} interrupted upload(s) and ${blobs} unreferenced blob(s)`);
    });
    app.post('/v1/files', async (request) => createFile(request, store, maxBytes));
    app.get('/v1/files', async (request) => listFiles(store, request.query as Record<string, unknown>));
    app.get<{ Params: { id: string } }>('/v1/files/:id', async (request) =>
      fileToWire(requireFile(store, request.params.id)),
    );
    app.delete<{ Params: { id: string } }>('/v1/files/:id', async (request): Promise<FileDeletedWire> => {
      const file = requireFile(store, request.params.id);
      store.files.delete(file.id);
      dropUnreferenced(store, file.sha256);
      return fileDeletedToWire(file.id);
    });
    app.get<{ Params: { id: string } }>('/v1/files/:id/content', async (request, reply) => {
      const file = requireFile(store, request.params.id);
      return reply
        .header('content-type', 'application/octet-stream')
        .header('content-length', String(file.bytes))
        .header('content-disposition', attachmentDisposition(file.filename))
        .send(store.blobs.read(file.sha256));
    });
  };
}
