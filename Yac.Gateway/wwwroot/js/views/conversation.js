// The open conversation: header, messages (ordered by seq, pending ones last) with their
// edited/deleted marks, quoted replies and reaction chips, a menu per message (react, reply,
// edit, delete), history on scroll up, read receipts for what is on screen, typing indicator and
// the composer (which also edits: Up arrow on an empty composer edits your last message).

import { $, h, avatar, colorSlot, dayKey, formatDay, formatTime, icon } from '../dom.js';

const runGapMs = 5 * 60 * 1000;
const loadOlderThresholdPx = 240;
const quoteLength = 80;
/** The small picker: common reactions (any emoji may be sent; these are the ones offered). */
export const pickerEmoji = ['👍', '❤️', '😂', '🎉', '😮', '😢', '🙏', '👀'];

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
  const context = $('#composer-context');
  const contextLabel = $('#composer-context-label');
  const contextCancel = $('#composer-context-cancel');
  $('#send-button').append(icon('send'));
  contextCancel.append(icon('close'));
  $('#back-button').append(icon('back'));
  $('#info-button').append(icon('info'));

  const elements = new Map();
  const drafts = new Map();
  const visibleSeqs = new Set();
  let chatId = null;
  /** What the composer does besides sending: {kind: 'reply' | 'edit', seq} or null. */
  let mode = null;
  let openMenu = null;

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
    if (chatId && mode?.kind !== 'edit') drafts.set(chatId, input.value);
    setMode(null, { keepText: true });
    closeMenu();
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
          // A message re-rendered while its menu is open (read by someone, a reaction arriving)
          // keeps the menu open: it must not vanish under the pointer.
          if (openMenu && element.contains(openMenu.menu)) moveMenu(fresh);
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
      const quote = message.replyToSeq ? store.messageBySeq(chatId, message.replyToSeq) : null;
      const quoteSignature = message.replyToSeq ? `${quote?.text ?? '?'}|${quote ? store.displayName(quote.senderId) : ''}|${quote?.deletedAt ?? ''}` : '';
      const reactionSignature = (message.reactions ?? []).map((reaction) => `${reaction.emoji}:${reaction.count}:${reaction.userIds.includes(myId)}`).join(',');
      items.push({
        key,
        signature: [state, message.seq, firstInRun, senderName, message.error ?? '', message.text, message.editedAt ?? '',
          message.deletedAt ?? '', quoteSignature, reactionSignature, store.canDelete(chatId, message)].join('|'),
        render: () => renderMessage(message, { mine, state, firstInRun, showSender, senderName, quote }),
      });
      previous = message;
    }
    return items;
  }

  function renderMessage(message, { mine, state, firstInRun, showSender, senderName, quote }) {
    const statusLabel = { pending: 'Sending', sent: 'Sent', read: 'Read', failed: 'Not sent' }[state];
    const statusIcon = { pending: 'clock', sent: 'check', read: 'checks', failed: 'alert' }[state];
    const deleted = Boolean(message.deletedAt);
    const stored = Boolean(message.seq);
    return h('li', {
      className: `message ${mine ? 'mine' : 'theirs'}${firstInRun ? ' first-in-run' : ''}${deleted ? ' deleted' : ''}`,
      dataset: { state, ...(message.seq ? { seq: message.seq } : {}), ...(message.clientMsgId ? { clientMsgId: message.clientMsgId } : {}) },
    },
    showSender ? avatar(message.senderId, senderName, { online: store.online.has(message.senderId), size: 'small' }) : null,
    h('div', { className: 'bubble-row' },
      h('div', { className: 'bubble' },
        showSender ? h('span', { className: `sender c${colorSlot(message.senderId)}`, text: senderName }) : null,
        message.replyToSeq && !deleted ? renderQuote(message.replyToSeq, quote) : null,
        deleted
          ? h('p', { className: 'text tombstone', text: 'This message was deleted' })
          : h('p', { className: 'text', text: message.text }),
        h('span', { className: 'meta' },
          message.editedAt && !deleted ? h('span', { className: 'edited', text: 'edited', title: `Edited ${new Date(message.editedAt).toLocaleString()}` }) : null,
          h('time', { dateTime: message.sentAt, text: formatTime(message.sentAt), title: new Date(message.sentAt).toLocaleString() }),
          mine ? h('span', { className: `status status-${state}`, attrs: { role: 'img', 'aria-label': statusLabel, title: statusLabel } }, icon(statusIcon)) : null)),
      stored && !deleted ? h('button', {
        type: 'button',
        className: 'icon-button message-menu-button',
        attrs: { 'aria-label': 'Message actions', title: 'Message actions', 'aria-haspopup': 'menu', 'aria-expanded': 'false' },
        on: { click: (event) => toggleMenu(event.currentTarget, message) },
      }, icon('more')) : null),
    stored && !deleted && message.reactions?.length ? renderReactions(message) : null,
    state === 'failed' ? h('div', { className: 'failed-row' },
      h('span', { text: message.error ? `Not sent: ${message.error}` : 'Not sent' }),
      h('button', { type: 'button', className: 'link-button', text: 'Retry', on: { click: () => actions.retry(chatId, message.clientMsgId) } })) : null);
  }

  /** The quoted original of a reply: its sender and the start of its text; a click scrolls to it. */
  function renderQuote(seq, quote) {
    if (!quote) actions.quoted(chatId, seq);
    const who = quote ? store.displayName(quote.senderId) : '';
    const snippet = !quote ? 'Loading the original…' : quote.deletedAt ? 'This message was deleted' : truncate(quote.text, quoteLength);
    return h('button', {
      type: 'button',
      className: 'quote',
      attrs: { 'aria-label': `Reply to ${who || 'a message'}: ${snippet}. Show the original` },
      on: { click: () => jumpTo(seq) },
    },
    who ? h('span', { className: 'quote-sender', text: who }) : null,
    h('span', { className: 'quote-text', text: snippet }));
  }

  function renderReactions(message) {
    const myId = store.me?.id;
    return h('div', { className: 'reactions', attrs: { role: 'group', 'aria-label': 'Reactions' } },
      ...message.reactions.map((reaction) => {
        const mine = reaction.userIds.includes(myId);
        const names = reaction.userIds.map((userId) => store.displayName(userId));
        const more = reaction.count - names.length;
        return h('button', {
          type: 'button',
          className: `reaction${mine ? ' mine' : ''}`,
          attrs: { 'aria-pressed': mine ? 'true' : 'false', 'aria-label': `${reaction.emoji} ${reaction.count}`, title: `${names.join(', ')}${more > 0 ? ` and ${more} more` : ''}` },
          dataset: { emoji: reaction.emoji },
          on: { click: () => actions.toggleReaction(chatId, message.seq, reaction.emoji) },
        }, h('span', { className: 'reaction-emoji', text: reaction.emoji }), h('span', { className: 'reaction-count', text: String(reaction.count) }));
      }));
  }

  // --- The menu of a message ------------------------------------------------------------------

  function toggleMenu(button, message) {
    const wasOpen = openMenu?.button === button;
    closeMenu();
    if (wasOpen) return;
    const mine = message.senderId === store.me?.id;
    const entries = [
      ['Reply', () => setMode({ kind: 'reply', seq: message.seq })],
      mine ? ['Edit', () => setMode({ kind: 'edit', seq: message.seq })] : null,
      store.canDelete(chatId, message) ? ['Delete', () => actions.remove(chatId, message.seq), 'danger'] : null,
    ].filter(Boolean);
    const menu = h('div', { className: 'message-menu', attrs: { role: 'menu', 'aria-label': 'Message actions' } },
      h('div', { className: 'picker', attrs: { role: 'group', 'aria-label': 'React' } },
        ...pickerEmoji.map((emoji) => h('button', {
          type: 'button',
          className: 'picker-emoji',
          attrs: { role: 'menuitem', 'aria-label': `React with ${emoji}` },
          text: emoji,
          on: { click: () => { closeMenu(); actions.toggleReaction(chatId, message.seq, emoji); } },
        }))),
      ...entries.map(([label, run, className]) => h('button', {
        type: 'button',
        className: `menu-item ${className ?? ''}`.trim(),
        attrs: { role: 'menuitem' },
        text: label,
        on: { click: () => { closeMenu(); run(); } },
      })));
    button.setAttribute('aria-expanded', 'true');
    button.closest('.message').append(menu);
    openMenu = { button, menu };
    menu.querySelector('button')?.focus();
  }

  function moveMenu(fresh) {
    const button = fresh.querySelector('.message-menu-button');
    if (!button) { closeMenu(); return; }
    button.setAttribute('aria-expanded', 'true');
    (button.closest('.message') ?? fresh).append(openMenu.menu);
    openMenu.button = button;
  }

  function closeMenu() {
    if (!openMenu) return;
    openMenu.button.setAttribute('aria-expanded', 'false');
    openMenu.menu.remove();
    openMenu = null;
  }

  document.addEventListener('click', (event) => {
    if (openMenu && !openMenu.menu.contains(event.target) && !openMenu.button.contains(event.target)) closeMenu();
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && openMenu) {
      const { button } = openMenu;
      closeMenu();
      button.focus();
    }
  });

  // --- Jumping to a message -------------------------------------------------------------------

  /** Scrolls to the message with `seq` (loading older history until it is there) and highlights it. */
  async function jumpTo(seq) {
    const target = chatId;
    if (!(await actions.reveal(target, seq)) || chatId !== target) return;
    scrollToMessage(seq);
  }

  function scrollToMessage(seq) {
    renderMessages();
    const element = list.querySelector(`.message[data-seq="${Number(seq)}"]`);
    if (!element) return;
    element.scrollIntoView({ block: 'center' });
    element.classList.remove('highlight');
    // Restart the highlight animation even when the same message is jumped to twice.
    void element.offsetWidth;
    element.classList.add('highlight');
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

  /** Replying to or editing a message, or (null) plain sending; shown in a bar above the composer. */
  function setMode(next, { keepText = false } = {}) {
    const wasEditing = mode?.kind === 'edit';
    mode = next;
    if (!next) {
      context.hidden = true;
      contextLabel.replaceChildren();
      if (wasEditing && !keepText) input.value = drafts.get(chatId) ?? '';
      autoGrow();
      return;
    }
    const message = store.messageBySeq(chatId, next.seq);
    if (!message) {
      mode = null;
      return;
    }
    context.hidden = false;
    context.dataset.kind = next.kind;
    if (next.kind === 'edit') {
      if (!wasEditing) drafts.set(chatId, input.value);
      contextLabel.replaceChildren(h('strong', { text: 'Editing message' }), h('span', { className: 'context-text', text: truncate(message.text, quoteLength) }));
      contextCancel.setAttribute('aria-label', 'Cancel editing');
      input.value = message.text;
    } else {
      if (wasEditing) input.value = drafts.get(chatId) ?? '';
      contextLabel.replaceChildren(h('strong', { text: `Replying to ${store.displayName(message.senderId)}` }), h('span', { className: 'context-text', text: truncate(message.text, quoteLength) }));
      contextCancel.setAttribute('aria-label', 'Cancel reply');
    }
    autoGrow();
    input.focus();
  }
  contextCancel.addEventListener('click', () => { setMode(null); input.focus(); });

  async function submit() {
    const text = input.value.trim();
    if (!chatId || !text) return;
    if (mode?.kind === 'edit') {
      const { seq } = mode;
      const current = store.messageBySeq(chatId, seq);
      if (current && current.text !== text && !(await actions.edit(chatId, seq, text))) return;
      drafts.delete(chatId);
      setMode(null, { keepText: true });
      input.value = '';
      autoGrow();
      return;
    }
    actions.send(chatId, text, mode?.kind === 'reply' ? mode.seq : null);
    setMode(null);
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
    } else if (event.key === 'ArrowUp' && !input.value && chatId && !mode) {
      // Up arrow in an empty composer edits your last message, as in most chat apps.
      const last = store.lastEditable(chatId);
      if (last) {
        event.preventDefault();
        setMode({ kind: 'edit', seq: last.seq });
      }
    } else if (event.key === 'Escape' && mode) {
      event.preventDefault();
      setMode(null);
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

  return { show, scrollToMessage, get chatId() { return chatId; } };
}

function truncate(text, length) {
  const characters = [...String(text ?? '')];
  return characters.length <= length ? characters.join('') : `${characters.slice(0, length).join('')}…`;
}
