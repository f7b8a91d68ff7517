// Message search: the box above the chat list. Enter lists the hits of the caller's chats (newest
// first) in place of the chat list; a hit opens its chat at the message. Clearing the box (or
// Escape) brings the chat list back.

import { $, h, formatListTime } from '../dom.js';

export function createSearch(store, actions) {
  const form = $('#search-form');
  const input = $('#search-input');
  const view = $('#search-view');
  const status = $('#search-status');
  const results = $('#search-results');
  const chatList = $('#chat-list-nav');
  let generation = 0;

  function close() {
    generation++;
    view.hidden = true;
    chatList.hidden = false;
    results.replaceChildren();
    status.textContent = '';
  }

  async function run() {
    const q = input.value.trim();
    if (!q) {
      close();
      return;
    }
    const mine = ++generation;
    view.hidden = false;
    chatList.hidden = true;
    status.textContent = 'Searching…';
    try {
      const hits = await actions.search(q);
      if (mine !== generation) return;
      // Only hits of chats still on the list: the chat list may lag the server by a moment.
      const shown = hits.filter((message) => store.chats.has(message.chatId));
      status.textContent = shown.length ? `${shown.length} message${shown.length === 1 ? '' : 's'}` : 'No messages match.';
      results.replaceChildren(...shown.map(renderHit));
    } catch (error) {
      if (mine !== generation) return;
      status.textContent = error.userMessage ?? 'Search failed.';
      results.replaceChildren();
    }
  }

  function renderHit(message) {
    const chat = store.chats.get(message.chatId);
    const title = store.chatTitle(chat);
    const sender = message.senderId === store.me?.id ? 'You' : store.displayName(message.senderId);
    return h('li', {},
      h('button', {
        type: 'button',
        className: 'search-hit',
        dataset: { chatId: message.chatId, seq: message.seq },
        on: { click: () => actions.openAt(message.chatId, message.seq) },
      },
      h('span', { className: 'search-hit-head' },
        h('span', { className: 'search-hit-chat', text: title }),
        h('time', { dateTime: message.sentAt, text: formatListTime(message.sentAt) })),
      h('span', { className: 'search-hit-text', text: `${sender}: ${message.text}` })));
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    run();
  });
  // The clear button of a search box, and emptying it by hand.
  input.addEventListener('search', () => { if (!input.value) close(); });
  input.addEventListener('input', () => { if (!input.value) close(); });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      input.value = '';
      close();
    }
  });

  return { reset() { input.value = ''; close(); } };
}
