// The chat list: avatar, title, last message, time and unread badge, most recent activity first.

import { $, h, avatar, formatListTime, icon, clear } from '../dom.js';

export function createSidebar(store) {
  const list = $('#chat-list');
  const empty = $('#chat-list-empty');
  const me = $('#me');
  const connection = $('#connection');
  $('#new-chat-button').append(icon('plus'));
  $('#join-button').append(icon('join'));
  $('#sign-out-button').append(icon('signOut'));

  const rows = new Map();

  function render() {
    renderMe();
    const chats = store.sortedChats();
    empty.hidden = chats.length > 0;
    const seen = new Set();
    chats.forEach((chat, index) => {
      seen.add(chat.id);
      let row = rows.get(chat.id);
      if (!row) {
        row = h('li', { className: 'chat-row' });
        rows.set(chat.id, row);
      }
      const hadFocus = row.contains(document.activeElement);
      row.replaceChildren(renderLink(chat));
      if (hadFocus) row.firstChild.focus();
      if (list.children[index] !== row) list.insertBefore(row, list.children[index] ?? null);
    });
    for (const [id, row] of rows) {
      if (!seen.has(id)) {
        row.remove();
        rows.delete(id);
      }
    }
  }

  function renderLink(chat) {
    const title = store.chatTitle(chat);
    const peer = chat.kind === 'direct' ? store.peerOf(chat) : null;
    const last = chat.lastMessage;
    const unread = chat.unreadCount > 0 ? chat.unreadCount : 0;
    const preview = last
      ? `${last.senderId === store.me?.id ? 'You: ' : chat.kind === 'group' ? `${store.displayName(last.senderId)}: ` : ''}${last.deletedAt ? 'Message deleted' : last.text}`
      : chat.kind === 'group' ? (chat.visibility === 'public' ? 'Public group' : 'Private group') : 'No messages yet';
    const label = `${title}${unread ? `, ${unread} unread` : ''}`;
    return h('a', {
      className: `chat-link${unread ? ' has-unread' : ''}`,
      href: `#/chat/${encodeURIComponent(chat.id)}`,
      attrs: { 'aria-current': store.activeChatId === chat.id ? 'page' : null, 'aria-label': label },
      dataset: { chatId: chat.id },
    },
    avatar(peer ?? chat.id, title, { online: peer !== null && store.online.has(peer) }),
    h('span', { className: 'chat-text' },
      h('span', { className: 'chat-title-row' },
        h('span', { className: 'chat-title', text: title }),
        last ? h('time', { className: 'chat-time', dateTime: last.sentAt, text: formatListTime(last.sentAt) }) : null),
      h('span', { className: 'chat-preview-row' },
        h('span', { className: 'chat-preview', text: preview }),
        unread ? h('span', { className: 'badge', attrs: { 'aria-hidden': 'true' }, dataset: { unread }, text: unread > 99 ? '99+' : String(unread) }) : null)));
  }

  function renderMe() {
    if (!store.me) return clear(me);
    if (me.dataset.userId === store.me.id) return me;
    me.dataset.userId = store.me.id;
    return me.replaceChildren(
      avatar(store.me.id, store.me.displayName, { online: true }),
      h('span', { className: 'me-text' },
        h('span', { className: 'me-name', text: store.me.displayName }),
        h('span', { className: 'me-username', text: `@${store.me.username}` })));
  }

  function renderConnection() {
    const { state, retryInMs } = store.connection;
    const text = state === 'open' || state === 'stopped' ? ''
      : state === 'waiting' ? `Connection lost. Reconnecting${retryInMs > 1500 ? ` in ${Math.round(retryInMs / 1000)} s` : ''}…`
        : 'Connecting…';
    connection.textContent = text;
    connection.hidden = !text;
    connection.dataset.state = state;
  }

  store.addEventListener('change', (event) => {
    const { kind } = event.detail;
    if (kind === 'connection') renderConnection();
    else if (kind !== 'typing' && kind !== 'receipts') render();
  });

  return { render, reset() { rows.clear(); list.replaceChildren(); delete me.dataset.userId; clear(me); } };
}
