/** OpenAI `file` content parts in chat requests: accepted shapes become `ChatFilePart`, others a 400 naming the field. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidRequestError, parseChatRequest, type ChatContentPart } from '../../src/protocol/index.js';

const PDF = 'data:application/pdf;base64,JVBERi0xLjc=';
const withPart = (part: unknown, role = 'user') => ({
  model: 'm',
  messages: [{ role, content: [{ type: 'text', text: 'a' }, part] }],
});
const partOf = (body: object): ChatContentPart => {
  const message = parseChatRequest(body).messages[0]!;
  assert.ok(message.role === 'user');
  return message.content[1]!;
};

describe('chat file parts', () => {
  it('takes file_data (with a filename) and file_id', () => {
    assert.deepEqual(partOf(withPart({ type: 'file', file: { file_data: PDF, filename: 'a.pdf' } })), {
      type: 'file',
      data: PDF,
      fileId: null,
      filename: 'a.pdf',
    });
    assert.deepEqual(partOf(withPart({ type: 'file', file: { file_id: 'file-1' } })), {
      type: 'file',
      data: null,
      fileId: 'file-1',
      filename: null,
    });
  });

  const refused: [string, unknown, string, string?][] = [
    ['no file object', { type: 'file' }, 'messages[0].content[1].file'],
    ['both sources', { type: 'file', file: { file_data: PDF, file_id: 'f' } }, 'messages[0].content[1].file'],
    ['neither source', { type: 'file', file: { filename: 'a.pdf' } }, 'messages[0].content[1].file'],
    [
      'not a PDF data URL',
      { type: 'file', file: { file_data: 'data:text/plain;base64,aGk=' } },
      'messages[0].content[1].file.file_data',
    ],
    [
      'a bare URL',
      { type: 'file', file: { file_data: 'https://example.com/a.pdf' } },
      'messages[0].content[1].file.file_data',
    ],
    ['an empty id', { type: 'file', file: { file_id: '' } }, 'messages[0].content[1].file.file_id'],
    ['an unknown field', { type: 'file', file: { file_id: 'f', url: 'x' } }, 'messages[0].content[1].file.url'],
    [
      'a long filename',
      { type: 'file', file: { file_id: 'f', filename: 'x'.repeat(257) } },
      'messages[0].content[1].file.filename',
    ],
    ['outside user messages', { type: 'file', file: { file_id: 'f' } }, 'messages[0].content[1].type', 'system'],
  ];
  for (const [name, part, param, role] of refused) {
    it(`refuses ${name}`, () => {
      assert.throws(
        () => parseChatRequest(withPart(part, role)),
        (error: unknown) => error instanceof InvalidRequestError && error.param === param,
      );
    });
  }
});
