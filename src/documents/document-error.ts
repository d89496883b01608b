/** Why a PDF was refused; the chat layer turns it into a 400 naming the content part. */

/** The classes of refusal, each with its own client-facing code. */
export type DocumentFailure =
  | 'encrypted'
  | 'javascript'
  | 'malformed'
  | 'too_many_pages'
  | 'too_many_pixels'
  | 'timeout';

/** A refused document; `message` is safe to show the client (it never carries a server path). */
export class DocumentError extends Error {
  /**
   * @param reason the class of refusal
   * @param message what is wrong, for the client
   * @param page the 1-based page it concerns, when one does
   */
  constructor(
    readonly reason: DocumentFailure,
    message: string,
    readonly page: number | null = null,
  ) {
    super(message);
    this.name = 'DocumentError';
  }
}
