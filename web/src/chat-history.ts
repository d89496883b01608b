import { describeError } from './api.js';
import { alertBox, el } from './dom.js';
import { deleteChat, listChats, type ChatSummary } from './history.js';
import { when } from './jobs.js';

/** The sidebar of saved chats: newest first, one to open, each deletable after a confirmation. */
export interface ChatHistory {
  root: HTMLElement;
  /** Re-reads the list from the server; `current` is marked as open. */
  refresh(current: string | null): Promise<void>;
}

/** Creates the sidebar; `open(id)` loads a chat, `deleted(id)` hears that one is gone. */
export function createChatHistory(open: (id: string) => void, deleted: (id: string) => void): ChatHistory {
  const list = el('ul', { class: 'chat-list', id: 'chat-history' });
  const error = alertBox();
  let current: string | null = null;
  const row = (chat: ChatSummary): HTMLLIElement =>
    el(
      'li',
      { 'data-chat': chat.id },
      el(
        'button',
        {
          type: 'button',
          class: chat.id === current ? 'chat-entry selected' : 'chat-entry',
          'aria-current': chat.id === current ? 'true' : undefined,
          onclick: () => open(chat.id),
        },
        el('span', { class: 'title', text: chat.title }),
        el('small', { text: `${chat.model} · ${when(chat.updated_at)}` }),
      ),
      el(
        'button',
        {
          type: 'button',
          class: 'small delete',
          'aria-label': `Delete chat "${chat.title}"`,
          onclick: () => {
            if (!confirm(`Delete the chat "${chat.title}"? This cannot be undone.`)) return;
            void deleteChat(chat.id).then(
              () => {
                deleted(chat.id);
                return refresh(current);
              },
              (failure: unknown) => error.show(describeError(failure)),
            );
          },
        },
        'Delete',
      ),
    );
  const refresh = async (next: string | null): Promise<void> => {
    current = next;
    try {
      const chats = await listChats();
      list.replaceChildren(...chats.map(row));
      if (chats.length === 0)
        list.append(el('li', { class: 'muted', text: 'Your chats are kept here, on the server.' }));
      error.clear();
    } catch (failure) {
      error.show(`Could not list the saved chats: ${describeError(failure)}`);
    }
  };
  const root = el(
    'aside',
    { class: 'chat-sidebar', 'aria-label': 'Saved chats' },
    el('h2', { text: 'Chats' }),
    error.root,
    list,
  );
  return { root, refresh };
}
