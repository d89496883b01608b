/** The chat document limits from the server's configuration (keys `document*`, docs/SECURITY.md) and its file store. */
import { readFile } from 'node:fs/promises';
import type { DocumentFileSource, DocumentOptions } from '../chat/index.js';
import type { Store } from '../store/index.js';
import { formatBytes } from '../util/index.js';
import type { AtelierConfig } from './config-schema.js';

/** `file_id`s resolve to `/v1/files` uploads (OpenAI's purpose for them is `user_data`; any purpose is read). */
function fileSource(store: Store): DocumentFileSource {
  return {
    async read(fileId, maxBytes) {
      const file = store.files.get(fileId);
      if (!file) return null;
      // Refused on the recorded size, before a byte is read.
      if (file.bytes > maxBytes) throw new Error(`the file is larger than ${formatBytes(maxBytes)}`);
      return { filename: file.filename, bytes: await readFile(store.blobs.path(file.sha256)) };
    },
  };
}

/** Builds the document options once per server. */
export function documentOptionsFromConfig(config: AtelierConfig, store: Store): DocumentOptions {
  return {
    limits: {
      maxBytes: config.documentMaxBytes,
      maxPages: config.documentMaxPages,
      maxPixels: config.documentMaxPixels,
      timeoutMs: config.documentTimeoutMs,
    },
    files: fileSource(store),
  };
}
