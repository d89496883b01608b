import { StringDecoder } from 'node:string_decoder';

/** One complete line from the worker's stdout: a parsed JSON object, or text that was not one. */
export type DecodedLine = { kind: 'json'; value: Record<string, unknown> } | { kind: 'text'; text: string };

/**
 * Splits a byte stream into lines and parses each as JSON. Chunks from a pipe break anywhere — mid-line and even
 * mid-UTF-8 character — so bytes go through a StringDecoder and the unterminated tail is kept until its newline.
 * Lines that are not a JSON object (a library printing to stdout, a progress bar) come back as `text` so the caller
 * can log them instead of failing the job.
 */
export class JsonLineDecoder {
  private readonly utf8 = new StringDecoder('utf8');
  private tail = '';

  /** Feeds a chunk; returns the lines it completed, in order. */
  push(chunk: Buffer | string): DecodedLine[] {
    this.tail += typeof chunk === 'string' ? chunk : this.utf8.write(chunk);
    const parts = this.tail.split('\n');
    this.tail = parts.pop() ?? '';
    return parts.flatMap((line) => decodeLine(line));
  }

  /** Flushes whatever followed the last newline (a worker killed mid-write leaves a partial line). */
  end(): DecodedLine[] {
    const rest = this.tail + this.utf8.end();
    this.tail = '';
    return decodeLine(rest);
  }
}

function decodeLine(raw: string): DecodedLine[] {
  const line = raw.replace(/\r$/, '');
  if (line.trim() === '') return [];
  if (line.trimStart().startsWith('{')) {
    try {
      const value: unknown = JSON.parse(line);
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        return [{ kind: 'json', value: value as Record<string, unknown> }];
      }
    } catch {
      // Falls through: a line that merely starts with `{` is still just noise.
    }
  }
  return [{ kind: 'text', text: line }];
}
