/**
 * PDF `file` parts of a chat request, read in the way the model can take them (src/documents reads the PDF on a
 * thread of its own): a vision model gets every page as an image at its image processor's working size, with the
 * page's text layer beside it; a text-only model gets the text layers in reading order with page markers, and a 400
 * naming the page when one has no text (a scan it cannot see). The parts become ordinary text and image parts, so
 * the model's own chat template renders them in its own format.
 */
import { InvalidRequestError, type ChatContentPart, type ChatFilePart, type ChatMessage } from '../protocol/index.js';
import {
  defaultDocumentLimits,
  DocumentError,
  readPdf,
  type DocumentLimits,
  type PdfPage,
} from '../documents/index.js';
import type { EngineImage } from '../engines/index.js';
import { formatBytes } from '../util/index.js';
import type { ChatModel } from './chat-model.js';

/** Where `file_id`s are looked up: the server's uploaded files. */
export interface DocumentFileSource {
  /** The file's name and bytes; null when no such file exists. Rejects when it is larger than `maxBytes`. */
  read(fileId: string, maxBytes: number): Promise<{ filename: string; bytes: Uint8Array } | null>;
}

/** Limits and the file source for the documents of a request. */
export interface DocumentOptions {
  limits: DocumentLimits;
  /** null: `file_id` parts are refused (no file store, e.g. `atelier run`). */
  files: DocumentFileSource | null;
}

/** Default limits, no file store. */
export const defaultDocumentOptions: DocumentOptions = { limits: defaultDocumentLimits, files: null };

/** A request's messages with documents turned into text and image parts, and every image in prompt order. */
export interface AttachedDocuments {
  messages: ChatMessage[];
  images: EngineImage[];
}

interface ReadDocument {
  filename: string;
  pages: PdfPage[];
}

const PDF_MAGIC = '%PDF-';

/** Client-facing codes per refusal. */
const CODES: Record<DocumentError['reason'], string> = {
  encrypted: 'document_encrypted',
  javascript: 'document_has_javascript',
  malformed: 'invalid_document',
  too_many_pages: 'document_too_large',
  too_many_pixels: 'document_too_large',
  timeout: 'document_timeout',
};

function refuse(param: string, name: string, message: string, code: string, cause?: unknown): never {
  throw new InvalidRequestError(`${name}: ${message}`, { param, code, cause });
}

async function bytesOf(
  part: ChatFilePart,
  param: string,
  options: DocumentOptions,
): Promise<{ filename: string; bytes: Uint8Array }> {
  const { maxBytes } = options.limits;
  const tooBig = (): never =>
    refuse(param, part.filename ?? 'document', `the PDF is larger than ${formatBytes(maxBytes)}`, 'document_too_large');
  if (part.data !== null) {
    const body = part.data.slice(part.data.indexOf(',') + 1);
    if (Math.floor((body.length * 3) / 4) > maxBytes + 2) tooBig();
    const bytes = Buffer.from(body, 'base64');
    if (bytes.length > maxBytes) tooBig();
    return { filename: part.filename ?? 'document.pdf', bytes };
  }
  if (!options.files)
    refuse(`${param}.file.file_id`, 'file_id', 'this server takes documents inline only (file_data)', 'invalid_value');
  const file = await options.files
    .read(part.fileId ?? '', maxBytes)
    .catch((error: unknown) => refuse(param, part.fileId ?? '', (error as Error).message, 'document_too_large'));
  if (!file) refuse(`${param}.file.file_id`, part.fileId ?? '', 'no such file', 'file_not_found');
  return { filename: part.filename ?? file.filename, bytes: file.bytes };
}

/** Pages and pixels still allowed for the request's documents. */
interface DocumentBudget {
  pages: number;
  pixels: number;
}

/** Reads the part's PDF (pages drawn at `side` px when set), turning every refusal into a 400 naming `param`. */
async function readChecked(
  part: ChatFilePart,
  param: string,
  options: DocumentOptions,
  budget: DocumentBudget,
  side: number | null,
): Promise<ReadDocument> {
  const { filename, bytes } = await bytesOf(part, param, options);
  if (!Buffer.from(bytes.subarray(0, 1024)).toString('latin1').includes(PDF_MAGIC)) {
    refuse(param, filename, 'the file is not a PDF', 'invalid_document');
  }
  try {
    const render = side === null ? null : { side, maxPixels: budget.pixels };
    const pages = await readPdf(bytes, { maxPages: budget.pages, render, timeoutMs: options.limits.timeoutMs });
    budget.pages -= pages.length;
    for (const page of pages) budget.pixels -= page.image ? page.image.width * page.image.height : 0;
    return { filename, pages };
  } catch (error) {
    if (!(error instanceof DocumentError)) throw error;
    const where = error.page === null ? '' : `page ${error.page}: `;
    return refuse(param, filename, `${where}${error.message}`, CODES[error.reason], error);
  }
}

async function readDocument(
  model: ChatModel,
  part: ChatFilePart,
  param: string,
  options: DocumentOptions,
  budget: DocumentBudget,
): Promise<ReadDocument> {
  const vision = model.engine.info.vision;
  const doc = await readChecked(part, param, options, budget, vision ? (model.engine.info.imageSide ?? 448) : null);
  const blank = doc.pages.find((p) => p.text === '');
  if (!vision && blank) {
    refuse(
      param,
      doc.filename,
      `page ${blank.number} has no text layer (a scanned page?) and the model '${model.id}' does not accept images`,
      'document_page_without_text',
    );
  }
  return doc;
}

/**
 * Every page of one document drawn with its longest side `side` px, and its text layer: what the studio shows as
 * thumbnails before sending. Same limits and 400s (naming `param`) as a chat request.
 */
export function previewDocument(
  part: ChatFilePart,
  side: number,
  param: string,
  options: DocumentOptions = defaultDocumentOptions,
): Promise<{ filename: string; pages: PdfPage[] }> {
  return readChecked(part, param, options, { pages: options.limits.maxPages, pixels: options.limits.maxPixels }, side);
}

/** The text and image parts a document becomes, and its page images in order. */
function documentParts(doc: ReadDocument): { parts: ChatContentPart[]; images: EngineImage[] } {
  const count = doc.pages.length;
  const parts: ChatContentPart[] = [
    { type: 'text', text: `[Document ${doc.filename}, ${count} page${count === 1 ? '' : 's'}]\n` },
  ];
  const images: EngineImage[] = [];
  for (const page of doc.pages) {
    parts.push({ type: 'text', text: `[Page ${page.number} of ${count}]\n` });
    if (page.image) {
      parts.push({ type: 'image', url: `document:${doc.filename}#page=${page.number}`, detail: 'auto' });
      images.push({ ...page.image, maxSide: null });
      if (page.text) parts.push({ type: 'text', text: `\n[Text layer of page ${page.number}]\n` });
    }
    if (page.text) parts.push({ type: 'text', text: `${page.text}\n` });
  }
  return { parts, images };
}

/**
 * Reads the `file` parts of the user messages (one at a time, pages and pixels charged to one request budget) and
 * returns the messages with each replaced by its text and page images, plus every image — `images`, the loaded
 * `image_url` parts in order, and the pages — in the order the template will place them. Throws a 400 naming the
 * part (`messages[i].content[j]`) for any refused document.
 */
export async function attachDocuments(
  model: ChatModel,
  messages: ChatMessage[],
  images: readonly EngineImage[],
  options: DocumentOptions = defaultDocumentOptions,
): Promise<AttachedDocuments> {
  const budget: DocumentBudget = { pages: options.limits.maxPages, pixels: options.limits.maxPixels };
  const ordered: EngineImage[] = [];
  let next = 0;
  const out: ChatMessage[] = [];
  for (const [i, message] of messages.entries()) {
    if (message.role !== 'user') {
      out.push(message);
      continue;
    }
    const content: ChatContentPart[] = [];
    for (const [j, part] of message.content.entries()) {
      if (part.type === 'file') {
        const doc = documentParts(await readDocument(model, part, `messages[${i}].content[${j}]`, options, budget));
        content.push(...doc.parts);
        ordered.push(...doc.images);
        continue;
      }
      if (part.type === 'image') ordered.push(images[next++] as EngineImage);
      content.push(part);
    }
    out.push({ role: 'user', content });
  }
  return { messages: out, images: ordered };
}
