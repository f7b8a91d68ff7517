// The open conversation: header, messages (ordered by seq, pending ones last), history on
// scroll up, read receipts for what is on screen, typing indicator and the composer.

import { $, h, avatar, colorSlot, dayKey, formatDay, formatTime, icon } from '../dom.js';

const runGapMs = 5 * 60 * 1000;
const loadOlderThresholdPx = 240;

export function createConversation(store, actions) {
  const placeholder = $('#no-conversation');
  const view = $('#conversation-view');
  const title = $('#conversation-title');
  const subtitle = $('#conversation-subtitle');
  const headerAvatar = $('#conversation-avatar');
  const scroller = $('#messages');
  const list = $('#message-list');
  const historyStatus = $('#history-status');
  const typing = $('#typing');
  const composer = $('#composer');
  const input = $('#composer-input');
  $('#send-button').append(icon('send'));
  $('#back-button').append(icon('back'));
  $('#info-button').append(icon('info'));

  const elements = new Map();
  const drafts = new Map();
  const visibleSeqs = new Set();
  let chatId = null;

  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      const seq = Number(entry.target.dataset.seq);
      if (entry.isIntersecting) visibleSeqs.add(seq); else visibleSeqs.delete(seq);
    }
    reportVisible();
  }, { root: scroller, threshold: 0.6 });

  function reportVisible() {
    if (!chatId || document.visibilityState !== 'visible' || visibleSeqs.size === 0) return;
    actions.markVisible(chatId, Math.max(...visibleSeqs));
  }
  document.addEventListener('visibilitychange', reportVisible);

  // --- Showing a chat -------------------------------------------------------------------------

  function show(id) {
    if (chatId === id) return;
    if (chatId) drafts.set(chatId, input.value);
    chatId = id;
    observer.disconnect();
    visibleSeqs.clear();
    elements.clear();
    list.replaceChildren();
    placeholder.hidden = id !== null;
    view.hidden = id === null;
    document.body.classList.toggle('in-conversation', id !== null);
    if (!id) return;
    input.value = drafts.get(id) ?? '';
    autoGrow();
    list.classList.toggle('group', store.chats.get(id)?.kind === 'group');
    renderHeader();
    renderMessages({ forceBottom: true });
    renderTyping();
    if (!matchMedia('(pointer: coarse)').matches) input.focus();
  }

  function renderHeader() {
    const chat = store.chats.get(chatId);
    if (!chat) return;
    const name = store.chatTitle(chat);
    const peer = chat.kind === 'direct' ? store.peerOf(chat) : null;
    title.textContent = name;
    headerAvatar.replaceChildren(avatar(peer ?? chat.id, name, { online: peer !== null && store.online.has(peer) }));
    if (peer) {
      subtitle.textContent = store.online.has(peer) ? 'online' : `@${store.users.get(peer)?.username ?? ''}`;
    } else {
      const members = chat.members ?? [];
      const online = members.filter((member) => member.userId !== store.me?.id && store.online.has(member.userId)).length;
      subtitle.textContent = [chat.visibility === 'public' ? 'Public group' : 'Private group',
        members.length ? `${members.length} member${members.length === 1 ? '' : 's'}` : null,
        online ? `${online} online` : null].filter(Boolean).join(' · ');
    }
  }

  // --- Messages -------------------------------------------------------------------------------

  function renderMessages({ forceBottom = false } = {}) {
    const chat = store.chats.get(chatId);
    if (!chat) return;
    const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
    const previousHeight = scroller.scrollHeight;
    const previousTop = scroller.scrollTop;
    const previousFirst = list.firstElementChild;

    const items = buildItems(chat);
    const keys = new Set();
    items.forEach((item, index) => {
      keys.add(item.key);
      let element = elements.get(item.key);
      if (!element || element.dataset.signature !== item.signature) {
        const fresh = item.render();
        fresh.dataset.signature = item.signature;
        if (element) {
          observer.unobserve(element);
          element.replaceWith(fresh);
        }
        element = fresh;
        elements.set(item.key, element);
        if (element.dataset.seq) observer.observe(element);
      }
      if (list.children[index] !== element) list.insertBefore(element, list.children[index] ?? null);
    });
    for (const [key, element] of elements) {
      if (!keys.has(key)) {
        observer.unobserve(element);
        element.remove();
        elements.delete(key);
      }
    }

    historyStatus.textContent = chat.loadingHistory ? 'Loading earlier messages…'
      : chat.historyLoaded && !chat.hasMoreBefore ? (items.length ? 'This is the beginning of the conversation.' : 'No messages yet. Say hello!') : '';

    if (forceBottom || atBottom) {
      scroller.scrollTop = scroller.scrollHeight;
    } else if (previousFirst && previousFirst !== list.firstElementChild && previousFirst.isConnected) {
      // Older messages went in above: keep what the reader was looking at in place.
      scroller.scrollTop = previousTop + (scroller.scrollHeight - previousHeight);
    }
    maybeLoadOlder();
  }

  function buildItems(chat) {
    const myId = store.me?.id;
    const readByOthers = Math.max(0, ...[...chat.readBy].filter(([userId]) => userId !== myId).map(([, seq]) => seq));
    const entries = [
      ...chat.orderedMessages().map((message) => ({ message, state: message.senderId === myId ? (message.seq <= readByOthers ? 'read' : 'sent') : 'received' })),
      ...[...chat.pending.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt))
        .map((pending) => ({ message: { ...pending, sentAt: pending.createdAt, seq: null }, state: pending.state })),
    ];
    const items = [];
    let previous = null;
    for (const { message, state } of entries) {
      const day = dayKey(message.sentAt);
      if (!previous || dayKey(previous.sentAt) !== day) {
        const label = formatDay(message.sentAt);
        items.push({ key: `day:${day}`, signature: label, render: () => h('li', { className: 'day-separator' }, h('span', { text: label })) });
      }
      const firstInRun = !previous || previous.senderId !== message.senderId || dayKey(previous.sentAt) !== day
        || Date.parse(message.sentAt) - Date.parse(previous.sentAt) > runGapMs;
      const mine = message.senderId === myId;
      const key = mine && message.clientMsgId ? `mine:${message.clientMsgId}` : `seq:${message.seq}`;
      const showSender = firstInRun && !mine && chat.kind === 'group';
      const senderName = showSender ? store.displayName(message.senderId) : '';
      items.push({
        key,
        signature: `${state}|${message.seq}|${firstInRun}|${senderName}|${message.error ?? ''}`,
        render: () => renderMessage(message, { mine, state, firstInRun, showSender, senderName }),
      });
      previous = message;
    }
    return items;
  }

  function renderMessage(message, { mine, state, firstInRun, showSender, senderName }) {
    const statusLabel = { pending: 'Sending', sent: 'Sent', read: 'Read', failed: 'Not sent' }[state];
    const statusIcon = { pending: 'clock', sent: 'check', read: 'checks', failed: 'alert' }[state];
    return h('li', {
      className: `message ${mine ? 'mine' : 'theirs'}${firstInRun ? ' first-in-run' : ''}`,
      dataset: { state, ...(message.seq ? { seq: message.seq } : {}), ...(message.clientMsgId ? { clientMsgId: message.clientMsgId } : {}) },
    },
    showSender ? avatar(message.senderId, senderName, { online: store.online.has(message.senderId), size: 'small' }) : null,
    h('div', { className: 'bubble' },
      showSender ? h('span', { className: `sender c${colorSlot(message.senderId)}`, text: senderName }) : null,
      h('p', { className: 'text', text: message.text }),
      h('span', { className: 'meta' },
        h('time', { dateTime: message.sentAt, text: formatTime(message.sentAt), title: new Date(message.sentAt).toLocaleString() }),
        mine ? h('span', { className: `status status-${state}`, attrs: { role: 'img', 'aria-label': statusLabel, title: statusLabel } }, icon(statusIcon)) : null)),
    state === 'failed' ? h('div', { className: 'failed-row' },
      h('span', { text: message.error ? `Not sent: ${message.error}` : 'Not sent' }),
      h('button', { type: 'button', className: 'link-button', text: 'Retry', on: { click: () => actions.retry(chatId, message.clientMsgId) } })) : null);
  }

  function maybeLoadOlder() {
    const chat = store.chats.get(chatId);
    if (!chat || chat.loadingHistory || !chat.historyLoaded || !chat.hasMoreBefore) return;
    if (scroller.scrollTop < loadOlderThresholdPx) actions.loadOlder(chatId);
  }
  scroller.addEventListener('scroll', maybeLoadOlder, { passive: true });

  // --- Typing ---------------------------------------------------------------------------------

  let typingTimer = 0;
  function renderTyping() {
    clearTimeout(typingTimer);
    const chat = store.chats.get(chatId);
    const who = chat ? chat.typingUsers().map((userId) => store.displayName(userId)) : [];
    typing.textContent = who.length === 0 ? '' : who.length === 1 ? `${who[0]} is typing…` : who.length === 2 ? `${who[0]} and ${who[1]} are typing…` : 'Several people are typing…';
    if (who.length) typingTimer = setTimeout(renderTyping, 1000);
  }

  // --- Composer -------------------------------------------------------------------------------

  function autoGrow() {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
  }

  function submit() {
    const text = input.value.trim();
    if (!chatId || !text) return;
    actions.send(chatId, text);
    input.value = '';
    drafts.delete(chatId);
    autoGrow();
    renderMessages({ forceBottom: true });
  }

  composer.addEventListener('submit', (event) => {
    event.preventDefault();
    submit();
    input.focus();
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  input.addEventListener('input', () => {
    autoGrow();
    if (chatId && input.value.trim()) actions.typing(chatId);
  });

  store.addEventListener('change', (event) => {
    const { kind, chatId: changed } = event.detail;
    if (!chatId) return;
    if (changed && changed !== chatId) return;
    if (kind === 'typing') renderTyping();
    else if (kind === 'messages' || kind === 'receipts' || kind === 'history') { renderMessages(); renderTyping(); }
    else if (kind === 'chat' || kind === 'users' || kind === 'presence' || kind === 'chats') { renderHeader(); renderMessages(); }
  });

  return { show, get chatId() { return chatId; } };
}
