/**
 * Wire shapes of `/v1/files` (OpenAI's `file` object). DreamBooth subject photos are uploaded with purpose
 * `fine-tune`, either one image per file or a zip of images; a job names one as `training_file` and may list more.
 */

/** Purposes the upload endpoint accepts (OpenAI's list; atelier only reads `fine-tune` files itself). */
export const filePurposes = ['fine-tune', 'vision', 'user_data', 'assistants', 'batch', 'evals'] as const;
/** One of `filePurposes`. */
export type FilePurpose = (typeof filePurposes)[number];

/** A `file` object. */
export interface FileObjectWire {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
  status: 'uploaded' | 'processed' | 'error';
  status_details?: string | null;
  expires_at?: number | null;
}

/** Body of `DELETE /v1/files/{id}`. */
export interface FileDeletedWire {
  id: string;
  object: 'file';
  deleted: boolean;
}

/** What the `file` object shows of a stored upload. */
export interface FileView {
  id: string;
  /** Size in bytes. */
  bytes: number;
  /** Unix seconds. */
  createdAt: number;
  filename: string;
  purpose: string;
  /** `uploaded`, `processed` or `error`. */
  status: string;
}

/** The `file` object. */
export function fileToWire(file: FileView): FileObjectWire {
  return {
    id: file.id,
    object: 'file',
    bytes: file.bytes,
    created_at: file.createdAt,
    filename: file.filename,
    purpose: file.purpose,
    status: file.status === 'uploaded' || file.status === 'error' ? file.status : 'processed',
    status_details: null,
    expires_at: null,
  };
}

/** The answer to deleting file `id`. */
export function fileDeletedToWire(id: string): FileDeletedWire {
  return { id, object: 'file', deleted: true };
}
