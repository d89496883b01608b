import { describeError } from './api.js';
import { createAttachments } from './attachments.js';
import { createChatHistory } from './chat-history.js';
import { chatBody, streamChat, type ChatSettings, type Turn } from './chat-request.js';
import { alertBox, el, field, numberOrUndefined } from './dom.js';
import { rememberForm } from './form-memory.js';
import { getChat, saveChat } from './history.js';
import { describeEnd, messageView, type MessageView } from './message-view.js';
import { capabilityBadges, createModelPicker, kindOf, listModels, modelsListed } from './models.js';
import type { Tab } from './tabs.js';

/** The Chat tab, with a way for the Models tab to pick its model. */
export interface ChatTab extends Tab {
  /** Selects `model` for the next message. */
  use(model: string): Promise<void>;
}

/** What a saved chat keeps besides its messages. */
type SavedSettings = Omit<ChatSettings, 'model'>;

const jsonHint =
  'Sent as response_format json_schema with strict: true. The reply then matches the schema — unless it is ' +
  'cut short by the token limit (finish: length), which the line under the reply says. Properties the schema does not ' +
  'forbid (no additionalProperties: false) may appear.';

/**
 * The Chat tab: a model from /v1/models (with what it takes: vision, tools, JSON), a multi-turn conversation with
 * images (picked, pasted or dropped), an optional strict JSON schema, replies streamed over SSE with Stop, Markdown
 * or pretty-printed JSON with Copy, Regenerate for the newest reply, and every chat saved on the server (sidebar).
 */
export function createChatTab(): ChatTab {
  let turns: Turn[] = [];
  let views: MessageView[] = [];
  let chatId: string | null = null;
  let running: AbortController | null = null;
  const picker = createModelPicker('chat', 'chat-model');
  const model = picker.select;
  const badges = el('span', { class: 'model-badges', id: 'chat-model-badges' });
  const maxTokens = el('input', { type: 'number', id: 'chat-max-tokens', min: 1, value: 256 });
  const temperature = el('input', {
    type: 'number',
    id: 'chat-temperature',
    min: 0,
    max: 2,
    step: 0.1,
    placeholder: 'default',
  });
  const draw = el(
    'select',
    { id: 'chat-draw', title: "Each reply calls atelier's image_generation tool and shows the picture" },
    new Option('off', ''),
  );
  const system = el('textarea', { id: 'chat-system', rows: 2, placeholder: 'You are a helpful assistant.' });
  const schema = el('textarea', {
    id: 'chat-schema',
    rows: 6,
    spellcheck: false,
    placeholder: '{"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}',
  });
  const transcript = el('ol', { class: 'transcript', id: 'chat-transcript', 'aria-live': 'polite' });
  const input = el('textarea', { id: 'chat-input', rows: 3, placeholder: 'Message (Ctrl+Enter sends)' });
  const error = alertBox();
  const attachments = createAttachments('Attach images to the message', error.show);
  const send = el('button', { type: 'submit' }, 'Send');
  const stop = el('button', { type: 'button', disabled: true, onclick: () => running?.abort() }, 'Stop');
  const memory = rememberForm('chat', { model, maxTokens, temperature, system, schema });
  const history = createChatHistory(
    (id) => void open(id),
    (id) => {
      if (id === chatId) reset();
    },
  );
  const showBadges = (): void => badges.replaceChildren(capabilityBadges(picker.current()));
  model.addEventListener('change', showBadges);
  model.addEventListener(modelsListed, showBadges);

  const settings = (): SavedSettings => ({
    system: system.value,
    schema: schema.value,
    maxTokens: numberOrUndefined(maxTokens),
    temperature: numberOrUndefined(temperature),
    draw: draw.value,
  });
  /** The image models a reply can draw with; errors are the model picker's to show. */
  const listDrawModels = async (): Promise<void> => {
    const chosen = draw.value;
    const names = (await listModels().catch(() => [])).filter((m) => kindOf(m) === 'image').map((m) => m.id);
    draw.replaceChildren(new Option('off', ''), ...names.map((name) => new Option(name, name)));
    draw.value = names.includes(chosen) ? chosen : '';
  };
  /** Saves the conversation (a new chat the first time) and refreshes the sidebar. */
  const persist = async (): Promise<void> => {
    const title = (turns.find((turn) => turn.role === 'user')?.text ?? '').trim().slice(0, 60) || 'Image chat';
    try {
      const saved = await saveChat(chatId, { title, model: model.value, messages: turns, settings: settings() });
      chatId = saved.id;
      await history.refresh(chatId);
    } catch (failure) {
      error.show(`The chat could not be saved: ${describeError(failure)}`);
    }
  };
  /** Only the newest reply offers Regenerate. */
  const markNewest = (): void => {
    for (const view of views) view.root.querySelector('.regenerate')?.remove();
    const last = views[views.length - 1];
    if (last && turns[turns.length - 1]?.role === 'assistant') {
      last.offerRegenerate(() => void regenerate());
      last.root.querySelector('.actions button:last-child')?.classList.add('regenerate');
    }
  };

  /** Sends `userTurn` after the conversation so far; `userView` is reused when regenerating. */
  const ask = async (userTurn: Turn, userView: MessageView | null): Promise<void> => {
    error.clear();
    let body: Record<string, unknown>;
    try {
      body = chatBody([...turns, userTurn], { model: model.value, ...settings() });
    } catch (failure) {
      error.show(describeError(failure));
      return;
    }
    const shownUser = userView ?? messageView(userTurn);
    const reply = messageView({ role: 'assistant', text: '', images: [] });
    reply.root.classList.add('streaming');
    if (!userView) transcript.append(shownUser.root);
    transcript.append(reply.root);
    const controller = new AbortController();
    running = controller;
    send.disabled = true;
    stop.disabled = false;
    let drawn: string[] = [];
    try {
      const result = await streamChat(
        body,
        controller.signal,
        (delta) => {
          reply.content.textContent += delta;
          reply.root.scrollIntoView({ block: 'end' });
        },
        (urls) => (drawn = urls),
      );
      const text = reply.content.textContent ?? '';
      const turn: Turn = { role: 'assistant', text, images: drawn };
      // A drawn picture shows inline like an attached one: the reply is rebuilt with it.
      const shown = drawn.length > 0 ? messageView(turn) : reply;
      if (shown !== reply) reply.root.replaceWith(shown.root);
      turns.push(userTurn, turn);
      views.push(shownUser, shown);
      shown.finish(describeEnd(shown.meta, text, result, body.response_format !== undefined));
    } catch (failure) {
      if (controller.signal.aborted) {
        // A stopped reply stays in the conversation as far as it got.
        turns.push(userTurn, { role: 'assistant', text: reply.content.textContent ?? '', images: [] });
        views.push(shownUser, reply);
        reply.meta.textContent = 'stopped';
        reply.finish(false);
      } else {
        // A refused request leaves no trace in the conversation: the message goes back into the composer.
        shownUser.root.remove();
        reply.root.remove();
        input.value = userTurn.text;
        attachments.set(userTurn.images);
        error.show(describeError(failure));
        return;
      }
    } finally {
      reply.root.classList.remove('streaming');
      running = null;
      send.disabled = false;
      stop.disabled = true;
    }
    markNewest();
    await persist();
  };
  const submit = async (): Promise<void> => {
    if (running || (!input.value.trim() && attachments.urls().length === 0)) return;
    const userTurn: Turn = { role: 'user', text: input.value, images: attachments.urls() };
    input.value = '';
    attachments.clear();
    await ask(userTurn, null);
  };
  const regenerate = async (): Promise<void> => {
    if (running || turns.length < 2) return;
    turns.pop();
    const userTurn = turns.pop()!;
    views.pop()!.root.remove();
    const userView = views.pop()!;
    await ask(userTurn, userView);
  };

  const render = (): void => {
    transcript.replaceChildren();
    views = turns.map((turn) => {
      const view = messageView(turn);
      transcript.append(view.root);
      if (turn.role === 'assistant') view.finish(schema.value.trim() !== '');
      return view;
    });
    markNewest();
  };
  const reset = (): void => {
    running?.abort();
    chatId = null;
    turns = [];
    render();
    error.clear();
    void history.refresh(null);
  };
  const open = async (id: string): Promise<void> => {
    try {
      const saved = await getChat<Turn, SavedSettings>(id);
      running?.abort();
      chatId = saved.id;
      turns = saved.messages;
      system.value = saved.settings.system ?? '';
      schema.value = saved.settings.schema ?? '';
      maxTokens.value = saved.settings.maxTokens === undefined ? '' : String(saved.settings.maxTokens);
      temperature.value = saved.settings.temperature === undefined ? '' : String(saved.settings.temperature);
      await listDrawModels();
      draw.value = saved.settings.draw ?? '';
      await picker.refresh(saved.model);
      render();
      error.clear();
      await history.refresh(chatId);
    } catch (failure) {
      error.show(describeError(failure));
    }
  };

  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) void submit();
  });
  const clear = el('button', { type: 'button', onclick: reset }, 'New chat');
  const form = el(
    'form',
    {
      class: 'composer',
      onsubmit: (event) => {
        event.preventDefault();
        void submit();
      },
    },
    field('Message', input),
    attachments.root,
    el('div', { class: 'buttons' }, send, stop),
  );
  attachments.acceptFrom(form);
  const main = el(
    'div',
    { class: 'chat-main' },
    el(
      'div',
      { class: 'toolbar' },
      field('Model', model),
      badges,
      field('Max tokens', maxTokens),
      field('Temperature', temperature),
      field('Draw with', draw),
      clear,
    ),
    picker.alert,
    el(
      'details',
      { class: 'options' },
      el('summary', { text: 'System prompt and JSON schema' }),
      field('System prompt', system),
      field('JSON schema', schema, jsonHint),
    ),
    transcript,
    error.root,
    form,
  );
  const root = el('section', { class: 'chat' }, history.root, main);
  let restored = false;
  return {
    id: 'chat',
    label: 'Chat',
    root,
    activate: () => {
      void (async () => {
        if (!restored) restored = await memory.restore();
        await picker.refresh();
        await listDrawModels();
        await history.refresh(chatId);
      })();
    },
    use: async (name) => {
      if (!restored) restored = await memory.restore();
      await picker.refresh(name);
      model.dispatchEvent(new Event('change'));
    },
  };
}
