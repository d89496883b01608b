import { describeError } from './api.js';
import { createAttachments } from './attachments.js';
import { chatBody, streamChat, type ChatResult, type Turn } from './chat-request.js';
import { alertBox, el, field, numberOrUndefined } from './dom.js';
import { createModelPicker } from './models.js';
import type { Tab } from './tabs.js';

/** A message in the transcript; `content` is what streaming writes into. */
function messageView(turn: Turn): { root: HTMLLIElement; content: HTMLPreElement; meta: HTMLElement } {
  const content = el('pre', { class: 'content', text: turn.text });
  const meta = el('div', { class: 'meta' });
  const images = turn.images.map((url, i) => el('img', { src: url, alt: `image ${i + 1}`, class: 'thumb-image' }));
  const root = el('li', { class: `message ${turn.role}`, 'data-role': turn.role },
    el('div', { class: 'who', text: turn.role }), images.length ? el('div', { class: 'thumbs' }, ...images) : null, content, meta);
  return { root, content, meta };
}

/** Marks a finished reply: how it ended, and whether it parses as JSON when a schema was asked for. */
function describeEnd(meta: HTMLElement, content: HTMLElement, result: ChatResult, structured: boolean): void {
  const parts = [result.finishReason && `finish: ${result.finishReason}`, result.completionTokens !== null && `${result.completionTokens} tokens`];
  if (structured) {
    try {
      JSON.parse(content.textContent ?? '');
      parts.push('valid JSON');
      content.classList.add('json');
    } catch {
      parts.push('not JSON (cut short?)');
    }
  }
  meta.textContent = parts.filter(Boolean).join(' · ');
}

/**
 * The Chat tab: a model from /v1/models, a multi-turn conversation with image attachments (data URLs), an optional
 * JSON schema sent as a strict json_schema response_format, replies streamed over SSE, a Stop button that aborts
 * the request (the server stops generating when the connection closes), and API errors shown as they come.
 */
export function createChatTab(): Tab {
  const turns: Turn[] = [];
  let running: AbortController | null = null;
  const picker = createModelPicker('chat', 'chat-model');
  const model = picker.select;
  const maxTokens = el('input', { type: 'number', id: 'chat-max-tokens', min: 1, value: 256 });
  const temperature = el('input', { type: 'number', id: 'chat-temperature', min: 0, max: 2, step: 0.1, placeholder: 'default' });
  const system = el('textarea', { id: 'chat-system', rows: 2, placeholder: 'You are a helpful assistant.' });
  const schema = el('textarea', { id: 'chat-schema', rows: 6, spellcheck: false, placeholder: '{"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}' });
  const transcript = el('ol', { class: 'transcript', id: 'chat-transcript', 'aria-live': 'polite' });
  const input = el('textarea', { id: 'chat-input', rows: 3, placeholder: 'Message (Ctrl+Enter sends)' });
  const error = alertBox();
  const attachments = createAttachments('Attach images to the message', error.show);
  const send = el('button', { type: 'submit' }, 'Send');
  const stop = el('button', { type: 'button', disabled: true, onclick: () => running?.abort() }, 'Stop');

  const submit = async (): Promise<void> => {
    if (running || (!input.value.trim() && attachments.urls().length === 0)) return;
    error.clear();
    const userTurn: Turn = { role: 'user', text: input.value, images: attachments.urls() };
    let body: Record<string, unknown>;
    try {
      body = chatBody([...turns, userTurn], {
        model: model.value, system: system.value, schema: schema.value,
        maxTokens: numberOrUndefined(maxTokens), temperature: numberOrUndefined(temperature),
      });
    } catch (failure) {
      error.show(describeError(failure));
      return;
    }
    const userView = messageView(userTurn);
    const reply = messageView({ role: 'assistant', text: '', images: [] });
    reply.root.classList.add('streaming');
    transcript.append(userView.root, reply.root);
    input.value = '';
    attachments.clear();
    running = new AbortController();
    send.disabled = true;
    stop.disabled = false;
    try {
      const result = await streamChat(body, running.signal, (delta) => {
        reply.content.textContent += delta;
        transcript.scrollTop = transcript.scrollHeight;
      });
      turns.push(userTurn, { role: 'assistant', text: reply.content.textContent ?? '', images: [] });
      describeEnd(reply.meta, reply.content, result, body.response_format !== undefined);
    } catch (failure) {
      if (running.signal.aborted) {
        // A stopped reply stays in the conversation as far as it got.
        turns.push(userTurn, { role: 'assistant', text: reply.content.textContent ?? '', images: [] });
        reply.meta.textContent = 'stopped';
      } else {
        // A refused request leaves no trace in the conversation: the message goes back into the composer.
        userView.root.remove();
        reply.root.remove();
        input.value = userTurn.text;
        attachments.set(userTurn.images);
        error.show(describeError(failure));
      }
    } finally {
      reply.root.classList.remove('streaming');
      running = null;
      send.disabled = false;
      stop.disabled = true;
    }
  };

  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) void submit();
  });
  const clear = el('button', { type: 'button', onclick: () => { running?.abort(); turns.length = 0; transcript.replaceChildren(); error.clear(); } }, 'New chat');
  const form = el('form', { class: 'composer', onsubmit: (event) => { event.preventDefault(); void submit(); } },
    field('Message', input), attachments.root, el('div', { class: 'buttons' }, send, stop));
  const root = el('section', { class: 'chat' },
    el('div', { class: 'toolbar' }, field('Model', model), field('Max tokens', maxTokens), field('Temperature', temperature), clear),
    picker.alert,
    el('details', { class: 'options' }, el('summary', { text: 'System prompt and JSON schema' }),
      field('System prompt', system),
      field('JSON schema', schema, 'Sent as response_format json_schema with strict: true; the reply is guaranteed to match it.')),
    transcript, error.root, form,
  );
  return { id: 'chat', label: 'Chat', root, activate: () => void picker.refresh() };
}
