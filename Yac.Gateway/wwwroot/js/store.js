// Client state: chats, their messages (deduplicated by chatId + seq, ordered by seq; edits,
// deletes and reactions applied in place), pending sends, unread counts, people, presence and
// typing, and each chat's latest rev (where the next resume starts). Views subscribe to `change` events
// ({detail: {kind, chatId}}) and redraw what they show.

export class Store extends EventTarget {
  me = null;
  /** @type {Map<string, object>} user id -> user */
  users = new Map();
  /** @type {Map<string, ChatState>} */
  chats = new Map();
  online = new Set();
  activeChatId = null;
  connection = { state: 'connecting', retryInMs: 0 };

  changed(kind, chatId = null) {
    this.dispatchEvent(new CustomEvent('change', { detail: { kind, chatId } }));
  }

  /** Chats by latest activity first. */
  sortedChats() {
    return [...this.chats.values()].sort((a, b) => b.activityAt - a.activityAt || a.order - b.order);
  }

  /** Merges the server's chat list: adds new chats, drops those we are no longer in. */
  mergeSummaries(summaries) {
    const seen = new Set();
    summaries.forEach((summary, index) => {
      seen.add(summary.id);
      const known = this.chats.get(summary.id);
      if (!known) {
        const chat = new ChatState(summary, index);
        if (summary.lastMessage) chat.messages.set(summary.lastMessage.seq, summary.lastMessage);
        this.chats.set(summary.id, chat);
        return;
      }
      Object.assign(known, { title: summary.title, visibility: summary.visibility });
      known.lastReadSeq = Math.max(known.lastReadSeq, summary.lastReadSeq ?? 0);
      // The server's count is exact when it has seen no more than we have.
      if (summary.lastSeq >= known.lastSeq) known.unreadCount = summary.unreadCount;
      if (summary.lastMessage) this.addMessages(summary.id, [summary.lastMessage], { live: false });
    });
    for (const id of [...this.chats.keys()]) if (!seen.has(id)) this.chats.delete(id);
    this.changed('chats');
  }

  upsertChat(chat) {
    let state = this.chats.get(chat.id);
    if (!state) {
      state = new ChatState({ ...chat, lastReadSeq: chat.lastSeq, unreadCount: 0, lastMessage: null }, -1);
      state.activityAt = Date.now();
      this.chats.set(chat.id, state);
    }
    Object.assign(state, { title: chat.title, visibility: chat.visibility, kind: chat.kind, createdBy: chat.createdBy, members: chat.members });
    state.lastSeq = Math.max(state.lastSeq, chat.lastSeq ?? 0);
    this.changed('chat', chat.id);
    return state;
  }

  removeChat(chatId) {
    this.chats.delete(chatId);
    if (this.activeChatId === chatId) this.activeChatId = null;
    this.changed('chats');
  }

  /**
   * Adds messages once each. `live` messages (pushed by the socket) advance the unread count;
   * pages of history do not. Returns the seqs that were new.
   */
  addMessages(chatId, messages, { live }) {
    const chat = this.chats.get(chatId);
    if (!chat) return [];
    const added = [];
    for (const message of messages) {
      if (chat.messages.has(message.seq)) continue;
      chat.messages.set(message.seq, message);
      added.push(message.seq);
      if (message.senderId === this.me?.id) chat.pending.delete(message.clientMsgId);
      if (live && message.senderId !== this.me?.id && message.seq > chat.lastReadSeq && message.seq > chat.lastSeq) chat.unreadCount++;
      if (message.seq >= chat.lastSeq) {
        chat.lastSeq = message.seq;
        chat.lastMessage = message;
        chat.activityAt = Date.parse(message.sentAt) || Date.now();
      }
      if (message.senderId === this.me?.id && message.seq > chat.lastReadSeq) chat.lastReadSeq = message.seq;
      chat.typing.delete(message.senderId);
    }
    if (added.length) {
      chat.invalidate();
      this.changed('messages', chatId);
    }
    return added;
  }

  /**
   * A change with a rev was applied (the socket delivers them in rev order without gaps), so a
   * resume after a reconnect starts after it.
   */
  noteRev(chatId, rev) {
    const chat = this.chats.get(chatId);
    if (chat && Number.isInteger(rev) && rev > chat.rev) chat.rev = rev;
  }

  /**
   * A message as it is now (edited, deleted, reacted to): replaces the copy held, if any. History
   * pages never replace a held message: every later change of it arrives as one of these.
   */
  updateMessage(chatId, message) {
    const chat = this.chats.get(chatId);
    if (!chat) return;
    if (chat.messages.has(message.seq)) {
      chat.messages.set(message.seq, message);
      chat.invalidate();
    }
    if (chat.quoted.has(message.seq)) chat.quoted.set(message.seq, message);
    if (chat.lastMessage?.seq === message.seq) chat.lastMessage = message;
    this.changed('messages', chatId);
  }

  /** A message held, or fetched once only to be quoted by a reply. */
  messageBySeq(chatId, seq) {
    const chat = this.chats.get(chatId);
    return chat?.messages.get(seq) ?? chat?.quoted.get(seq) ?? null;
  }

  /** My newest message of a chat that can still be edited (for the Up arrow). */
  lastEditable(chatId) {
    const chat = this.chats.get(chatId);
    if (!chat) return null;
    const mine = chat.orderedMessages().filter((message) => message.senderId === this.me?.id && !message.deletedAt);
    return mine.at(-1) ?? null;
  }

  /** Whether I may delete this message: mine, or any in a group I own or administer. */
  canDelete(chatId, message) {
    if (message.deletedAt) return false;
    if (message.senderId === this.me?.id) return true;
    const chat = this.chats.get(chatId);
    const role = chat?.members?.find((member) => member.userId === this.me?.id)?.role;
    return chat?.kind === 'group' && (role === 'owner' || role === 'admin');
  }

  addPending(chatId, clientMsgId, text, replyToSeq = null) {
    const chat = this.chats.get(chatId);
    chat.pending.set(clientMsgId, { clientMsgId, text, replyToSeq, state: 'pending', createdAt: new Date().toISOString(), senderId: this.me.id });
    chat.activityAt = Date.now();
    this.changed('messages', chatId);
  }

  setPendingState(chatId, clientMsgId, state, error = '') {
    const pending = this.chats.get(chatId)?.pending.get(clientMsgId);
    if (!pending) return;
    Object.assign(pending, { state, error });
    this.changed('messages', chatId);
  }

  /** Our own read position moved (here or on another device). */
  markRead(chatId, seq) {
    const chat = this.chats.get(chatId);
    if (!chat || seq <= chat.lastReadSeq) return false;
    chat.lastReadSeq = seq;
    chat.unreadCount = seq >= chat.lastSeq ? 0 : chat.countUnreadAfter(seq, this.me.id, chat.unreadCount);
    this.changed('read', chatId);
    return true;
  }

  /** Another member's read position (for the ✓✓ on our messages). */
  setReadBy(chatId, userId, seq) {
    const chat = this.chats.get(chatId);
    if (!chat) return;
    if ((chat.readBy.get(userId) ?? 0) >= seq) return;
    chat.readBy.set(userId, seq);
    this.changed('receipts', chatId);
  }

  setTyping(chatId, userId) {
    const chat = this.chats.get(chatId);
    if (!chat || userId === this.me?.id) return;
    chat.typing.set(userId, Date.now() + 5000);
    this.changed('typing', chatId);
  }

  setOnline(userId, online) {
    if (online === this.online.has(userId)) return;
    if (online) this.online.add(userId); else this.online.delete(userId);
    this.changed('presence');
  }

  displayName(userId) {
    if (userId === this.me?.id) return this.me.displayName;
    return this.users.get(userId)?.displayName ?? 'Someone';
  }

  /** The other person of a direct chat (when its members are known). */
  peerOf(chat) {
    return chat.members?.find((member) => member.userId !== this.me?.id)?.userId ?? null;
  }

  chatTitle(chat) {
    if (chat.kind === 'direct') {
      const peer = this.peerOf(chat);
      return peer ? this.displayName(peer) : (chat.title || 'Direct chat');
    }
    return chat.title || 'Untitled group';
  }
}

export class ChatState {
  constructor(summary, order) {
    this.id = summary.id;
    this.kind = summary.kind;
    this.title = summary.title ?? null;
    this.visibility = summary.visibility ?? 'private';
    this.lastSeq = summary.lastSeq ?? 0;
    this.lastReadSeq = summary.lastReadSeq ?? 0;
    this.unreadCount = summary.unreadCount ?? 0;
    this.lastMessage = summary.lastMessage ?? null;
    /** The latest change of this chat applied here (0: none known; resume by seq then). */
    this.rev = summary.rev ?? 0;
    this.activityAt = this.lastMessage ? Date.parse(this.lastMessage.sentAt) : 0;
    this.order = order;
    this.members = summary.members ?? null;
    this.createdBy = summary.createdBy ?? null;
    /** @type {Map<number, object>} seq -> message */
    this.messages = new Map();
    /** @type {Map<string, object>} clientMsgId -> pending message */
    this.pending = new Map();
    /** @type {Map<number, object>} seq -> a message not in the loaded history, fetched to quote it */
    this.quoted = new Map();
    this.readBy = new Map();
    this.typing = new Map();
    this.historyLoaded = false;
    this.hasMoreBefore = true;
    this.loadingHistory = false;
    this.sorted = null;
  }

  invalidate() { this.sorted = null; }

  /** Messages in seq order. */
  orderedMessages() {
    this.sorted ??= [...this.messages.values()].sort((a, b) => a.seq - b.seq);
    return this.sorted;
  }

  oldestSeq() {
    return this.orderedMessages()[0]?.seq ?? null;
  }

  countUnreadAfter(seq, myId, fallback) {
    const oldest = this.oldestSeq();
    if (oldest === null || oldest > seq + 1) return Math.max(0, Math.min(fallback, this.lastSeq - seq));
    return this.orderedMessages().filter((m) => m.seq > seq && m.senderId !== myId).length;
  }

  typingUsers(now = Date.now()) {
    return [...this.typing.entries()].filter(([, until]) => until > now).map(([userId]) => userId);
  }
}
