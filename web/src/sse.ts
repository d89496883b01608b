/** One server-sent event: its `event` name (default `message`) and its `data` lines joined by `\n`. */
export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Parses a `text/event-stream` body into events as the HTML standard reads them: lines end in LF, CRLF or CR, a
 * blank line dispatches, `:` starts a comment, one space after the colon is dropped, `data` lines accumulate.
 * Returning early (or an abort) cancels the body.
 */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      for (let end = lineEnd(buffer); end !== null; end = lineEnd(buffer)) {
        const line = buffer.slice(0, end.index);
        buffer = buffer.slice(end.index + end.length);
        if (line === '') {
          if (data.length > 0) yield { event: event || 'message', data: data.join('\n') };
          event = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const name = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (name === 'data') data.push(value);
        else if (name === 'event') event = value;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** Where the first complete line of `buffer` ends; a lone CR at the very end may be half of a CRLF, so it waits. */
function lineEnd(buffer: string): { index: number; length: number } | null {
  const match = /\r\n|\r|\n/.exec(buffer);
  if (!match) return null;
  if (match[0] === '\r' && match.index === buffer.length - 1) return null;
  return { index: match.index, length: match[0].length };
}
