// Starts the app and connects the parts: REST (api.js), the socket (socket.js), state
// (store.js) and the views. Routes: #/ (chat list), #/chat/<id>, #/join/<id>.

import { Api, ApiError } from './api.js';
import { ChatSocket } from './socket.js';
import { Store } from './store.js';
import { $, toast } from './dom.js';
import { initAuth } from './views/auth.js';
import { createSidebar } from './views/sidebar.js';
import { createConversation } from './views/conversation.js';
import { createDialogs } from './views/dialogs.js';
import { createSearch } from './views/search.js';

const typingIntervalMs = 3000;

const api = new Api();
const store = new Store();
const socket = new ChatSocket(api, () => {
  const chats = {};
  const revs = {};
  for (const chat of store.chats.values()) {
    if (chat.rev > 0) revs[chat.id] = chat.rev; else chats[chat.id] = chat.lastSeq;
  }
  return { chats, revs };
});

// --- Loading what the views need ----------------------------------------------------------------

const userRequests = new Map();
function ensureUsers(ids) {
  const missing = [...new Set(ids)].filter((id) => id && !store.users.has(id) && !userRequests.has(id));
  for (const id of missing) {
    userRequests.set(id, api.user(id)
      .then((user) => { store.users.set(id, user); store.changed('users'); })
      .catch(() => {})
      .finally(() => userRequests.delete(id)));
  }
}

async function refreshChat(chatId) {
  try {
    const chat = await api.chat(chatId);
    if (!store.chats.has(chatId) && !chat.members?.some((member) => member.userId === store.me.id)) return null;
    store.upsertChat(chat);
    ensureUsers(chat.members.map((member) => member.userId));
    return chat;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) store.removeChat(chatId);
    return null;
  }
}

let chatListRefresh = null;
let chatListStale = false;
/** Messages pushed for a chat before the chat list knew it (added to a chat a moment ago). */
const earlyMessages = new Map();

/**
 * Reloads the chat list (new chats, chats we were removed from). Calls share one request; a call
 * made while one is in flight asks for one more afterwards, since the running one may predate it.
 */
function refreshChatList() {
  if (chatListRefresh) {
    chatListStale = true;
    return chatListRefresh;
  }
  chatListRefresh = api.chats()
    .then((summaries) => {
      const known = new Set(store.chats.keys());
      store.mergeSummaries(summaries);
      ensureUsers(summaries.map((summary) => summary.lastMessage?.senderId));
      // Direct chats are titled by the other person, so their members are needed for the list.
      for (const summary of summaries) if (!known.has(summary.id) && summary.kind === 'direct') refreshChat(summary.id);
      for (const [chatId, messages] of earlyMessages) {
        if (!store.chats.has(chatId)) continue;
        earlyMessages.delete(chatId);
        store.addMessages(chatId, messages, { live: true });
      }
    })
    .catch((error) => { if (error.status !== 401) toast('Could not load your chats.', { error: true }); })
    .finally(() => {
      chatListRefresh = null;
      if (chatListStale) {
        chatListStale = false;
        refreshChatList();
      }
    });
  return chatListRefresh;
}

async function loadHistory(chatId, { older = false } = {}) {
  const chat = store.chats.get(chatId);
  if (!chat || chat.loadingHistory || (older && !chat.hasMoreBefore)) return;
  chat.loadingHistory = true;
  store.changed('history', chatId);
  try {
    const beforeSeq = older ? chat.oldestSeq() : undefined;
    const page = await api.messages(chatId, beforeSeq ? { beforeSeq, limit: 50 } : { limit: 50 });
    const current = store.chats.get(chatId);
    if (!current) return;
    // The first page is the newest one; older pages go on from the oldest message held.
    current.hasMoreBefore = page.hasMore;
    current.historyLoaded = true;
    store.addMessages(chatId, page.messages, { live: false });
    ensureUsers(page.messages.map((message) => message.senderId));
  } catch (error) {
    if (error.status !== 401) toast('Could not load messages.', { error: true });
  } finally {
    chat.loadingHistory = false;
    store.changed('history', chatId);
  }
}

/** Messages between what we held and a live one that skipped ahead (never expected, cheap to guard). */
async function fillGap(chatId, afterSeq, beforeSeq) {
  try {
    const page = await api.messages(chatId, { afterSeq, limit: Math.min(200, beforeSeq - afterSeq) });
    store.addMessages(chatId, page.messages, { live: true });
  } catch {
    // The next resume covers it.
  }
}

// --- Socket frames ------------------------------------------------------------------------------

socket.addEventListener('status', (event) => {
  store.connection = event.detail;
  store.changed('connection');
});

socket.addEventListener('hello', (event) => {
  // Which replica holds the socket: handy when reading logs and traces.
  $('#connection').dataset.gatewayId = event.detail.gatewayId ?? '';
  // Every hello, the first too: a chat created or joined between the list read before the socket
  // and the socket's subscriptions reaches it neither live nor in that list (a direct chat opened
  // right after sign-up did). From hello on, every change arrives live; after a reconnect, chats
  // may also have been created, joined or left meanwhile.
  refreshChatList();
});

socket.addEventListener('frame', (event) => {
  const frame = event.detail;
  if (frame.rev !== undefined) store.noteRev(frame.chatId, frame.rev);
  switch (frame.type) {
    case 'message': {
      const { type, ...message } = frame;
      const chat = store.chats.get(message.chatId);
      if (!chat) {
        const early = earlyMessages.get(message.chatId) ?? [];
        if (early.length < 500) early.push(message);
        earlyMessages.set(message.chatId, early);
        refreshChatList();
        return;
      }
      const previousLastSeq = chat.lastSeq;
      store.addMessages(message.chatId, [message], { live: true });
      ensureUsers([message.senderId]);
      if (message.senderId !== store.me.id) store.setOnline(message.senderId, true);
      if (previousLastSeq > 0 && message.seq > previousLastSeq + 1) fillGap(message.chatId, previousLastSeq, message.seq);
      break;
    }
    case 'messageUpdated':
      store.updateMessage(frame.chatId, frame.message);
      break;
    case 'chatUpdated':
      if (store.chats.has(frame.chatId) && frame.chat) {
        store.upsertChat(frame.chat);
        ensureUsers(frame.chat.members.map((member) => member.userId));
      }
      break;
    case 'read':
      if (frame.userId === store.me.id) store.markRead(frame.chatId, frame.seq);
      else store.setReadBy(frame.chatId, frame.userId, frame.seq);
      break;
    case 'typing':
      store.setTyping(frame.chatId, frame.userId);
      store.setOnline(frame.userId, true);
      break;
    case 'presence':
      store.setOnline(frame.userId, frame.online);
      break;
    case 'memberJoined':
      if (frame.userId === store.me.id && !store.chats.has(frame.chatId)) refreshChatList();
      else if (store.chats.has(frame.chatId)) refreshChat(frame.chatId);
      break;
    case 'memberLeft':
      if (frame.userId === store.me.id) {
        if (store.activeChatId === frame.chatId) location.hash = '#/';
        store.removeChat(frame.chatId);
      } else if (store.chats.has(frame.chatId)) {
        refreshChat(frame.chatId);
      }
      break;
    case 'error':
      if (frame.code !== 'bad_request') toast(frame.message || 'The server refused that.', { error: true });
      break;
    default:
      break; // Frame types added after v1 are ignored.
  }
});

socket.addEventListener('ack', (event) => {
  const ack = event.detail;
  const pending = store.chats.get(ack.chatId)?.pending.get(ack.clientMsgId);
  if (!pending) return;
  store.addMessages(ack.chatId, [{
    id: ack.messageId, chatId: ack.chatId, seq: ack.seq, senderId: store.me.id, text: pending.text, sentAt: ack.sentAt, clientMsgId: ack.clientMsgId,
    editedAt: null, deletedAt: null, replyToSeq: pending.replyToSeq ?? null, reactions: [],
  }], { live: true });
});

socket.addEventListener('sendfailed', (event) => {
  const { chatId, clientMsgId, code, message } = event.detail;
  store.setPendingState(chatId, clientMsgId, 'failed', code === 'timeout' ? 'no answer' : message || code);
});

socket.addEventListener('revoked', () => {
  api.forget();
});

// --- User actions -------------------------------------------------------------------------------

const lastTypingSent = new Map();
/** Quoted originals asked for once each (a reply to a message older than the loaded history). */
const quoteRequests = new Set();
const readQueue = new Map();
const readsInFlight = new Set();

async function findUser(username) {
  const [user] = await api.findUsers(username);
  if (!user) throw new Error(`There is no user named “${username}”.`);
  store.users.set(user.id, user);
  return user;
}

function openChat(chatId) {
  location.hash = `#/chat/${encodeURIComponent(chatId)}`;
}

const actions = {
  send(chatId, text, replyToSeq = null) {
    const clientMsgId = newClientMsgId();
    store.addPending(chatId, clientMsgId, text, replyToSeq);
    socket.send(chatId, clientMsgId, text, replyToSeq);
  },

  /** Edits, deletes and reactions go over REST; their result reaches every page as messageUpdated. */
  async edit(chatId, seq, text) {
    try {
      store.updateMessage(chatId, await api.editMessage(chatId, seq, text));
      return true;
    } catch (error) {
      toast(error.userMessage ?? 'Could not edit the message.', { error: true });
      return false;
    }
  },

  async remove(chatId, seq) {
    try {
      await api.deleteMessage(chatId, seq);
    } catch (error) {
      toast(error.userMessage ?? 'Could not delete the message.', { error: true });
    }
  },

  async toggleReaction(chatId, seq, emoji) {
    const message = store.messageBySeq(chatId, seq);
    const mine = message?.reactions?.some((reaction) => reaction.emoji === emoji && reaction.userIds.includes(store.me.id));
    try {
      if (mine) await api.unreact(chatId, seq, emoji); else await api.react(chatId, seq, emoji);
    } catch (error) {
      toast(error.userMessage ?? 'Could not react.', { error: true });
    }
  },

  /** The message a reply quotes: held, or fetched once (it may be older than the loaded history). */
  async quoted(chatId, seq) {
    const held = store.messageBySeq(chatId, seq);
    if (held) return held;
    const key = `${chatId}:${seq}`;
    if (quoteRequests.has(key)) return null;
    quoteRequests.add(key);
    try {
      const page = await api.messages(chatId, { afterSeq: seq - 1, limit: 1 });
      const message = page.messages.find((candidate) => candidate.seq === seq);
      const chat = store.chats.get(chatId);
      if (!message || !chat) return null;
      chat.quoted.set(seq, message);
      ensureUsers([message.senderId]);
      store.changed('messages', chatId);
      return message;
    } catch {
      return null;
    }
  },

  /** Loads older pages until the message with `seq` is held (at most 40 pages); whether it is. */
  async reveal(chatId, seq) {
    for (let page = 0; page < 40; page++) {
      const chat = store.chats.get(chatId);
      if (!chat) return false;
      if (chat.messages.has(seq)) return true;
      if (chat.historyLoaded && !chat.hasMoreBefore) return false;
      if (chat.loadingHistory) await new Promise((resolve) => { setTimeout(resolve, 100); });
      else await loadHistory(chatId, { older: chat.historyLoaded });
    }
    return store.chats.get(chatId)?.messages.has(seq) ?? false;
  },

  async search(q) {
    const { results } = await api.search(q, { limit: 50 });
    ensureUsers(results.map((message) => message.senderId));
    return results;
  },

  /** Opens a chat at a message (a search hit). */
  openAt(chatId, seq) {
    pendingFocus = { chatId, seq };
    if (store.activeChatId === chatId) focusPending(); else openChat(chatId);
  },

  async retry(chatId, clientMsgId) {
    store.setPendingState(chatId, clientMsgId, 'pending');
    if (socket.connected && socket.retry(clientMsgId)) return;
    // No socket right now: the REST endpoint takes the same clientMsgId just as safely.
    const pending = store.chats.get(chatId)?.pending.get(clientMsgId);
    if (!pending) return;
    try {
      const message = await api.sendMessage(chatId, clientMsgId, pending.text, pending.replyToSeq);
      socket.discard(clientMsgId);
      store.addMessages(chatId, [message], { live: true });
    } catch (error) {
      store.setPendingState(chatId, clientMsgId, 'failed', error.status === 0 ? 'offline' : error.message);
    }
  },

  loadOlder(chatId) {
    loadHistory(chatId, { older: true });
  },

  markVisible(chatId, seq) {
    const chat = store.chats.get(chatId);
    if (!chat || seq <= chat.lastReadSeq) return;
    store.markRead(chatId, seq);
    readQueue.set(chatId, Math.max(seq, readQueue.get(chatId) ?? 0));
    sendRead(chatId);
  },

  typing(chatId) {
    const now = Date.now();
    if (now - (lastTypingSent.get(chatId) ?? 0) < typingIntervalMs) return;
    if (socket.typing(chatId)) lastTypingSent.set(chatId, now);
  },

  async createDirect(username) {
    const user = await findUser(username);
    if (user.id === store.me.id) throw new Error('That is you. Pick someone else.');
    const chat = await api.createChat({ kind: 'direct', memberIds: [user.id] });
    store.upsertChat(chat);
    openChat(chat.id);
  },

  async createGroup(title, visibility, usernames) {
    const users = await Promise.all(usernames.map(findUser));
    const memberIds = users.map((user) => user.id).filter((id) => id !== store.me.id);
    const chat = await api.createChat({ kind: 'group', title, visibility, memberIds });
    store.upsertChat(chat);
    openChat(chat.id);
  },

  previewChat(chatId) {
    return api.chat(chatId);
  },

  async join(chatId) {
    if (!store.chats.has(chatId)) await api.addMember(chatId, store.me.id);
    await refreshChat(chatId);
    openChat(chatId);
  },

  refreshChat,

  async addMember(chatId, username) {
    const user = await findUser(username);
    await api.addMember(chatId, user.id);
    await refreshChat(chatId);
  },

  async removeMember(chatId, userId) {
    await api.removeMember(chatId, userId);
    await refreshChat(chatId);
  },

  async leave(chatId) {
    await api.removeMember(chatId, store.me.id);
    store.removeChat(chatId);
    location.hash = '#/';
  },
};

/**
 * Read positions go to the server over REST (it answers, so a lost one is noticed): at once,
 * one request per chat at a time, the newest position sent when the previous one returns.
 */
function sendRead(chatId) {
  if (readsInFlight.has(chatId) || !readQueue.has(chatId)) return;
  const seq = readQueue.get(chatId);
  readQueue.delete(chatId);
  readsInFlight.add(chatId);
  let retryDelayMs = 0;
  api.markRead(chatId, seq)
    .catch((error) => {
      if (error.status === 0 || error.status >= 500) {
        readQueue.set(chatId, Math.max(seq, readQueue.get(chatId) ?? 0));
        retryDelayMs = 3000;
      }
    })
    .finally(() => {
      readsInFlight.delete(chatId);
      if (readQueue.has(chatId)) setTimeout(() => sendRead(chatId), retryDelayMs);
    });
}

function newClientMsgId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // Plain-http pages on a LAN address are not a secure context and have no randomUUID.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// --- Views and routing --------------------------------------------------------------------------

const auth = initAuth(api, () => startSession());
let sidebar;
let conversation;
let dialogs;
let search;

function createViews() {
  sidebar = createSidebar(store);
  conversation = createConversation(store, actions);
  dialogs = createDialogs(store, actions);
  search = createSearch(store, actions);
  $('#new-chat-button').addEventListener('click', () => dialogs.newChat.open());
  $('#join-button').addEventListener('click', () => dialogs.join.open());
  $('#info-button').addEventListener('click', () => dialogs.info.open(store.activeChatId));
  $('#sign-out-button').addEventListener('click', async () => {
    signingOut = true;
    socket.stop();
    await api.signOut();
  });
}

async function route() {
  if (!store.me) return;
  const [, page, id] = location.hash.match(/^#\/(chat|join)\/([^/?#]+)/) ?? [];
  const chatId = id ? decodeURIComponent(id) : null;

  if (page === 'join') {
    if (store.chats.has(chatId)) {
      openChat(chatId);
      return;
    }
    history.replaceState(null, '', '#/');
    showChat(null);
    dialogs.join.open(chatId);
    return;
  }
  if (page === 'chat' && !store.chats.has(chatId)) {
    // A chat we were just added to, or a stale link.
    if (!(await refreshChat(chatId))) {
      history.replaceState(null, '', '#/');
      showChat(null);
      return;
    }
  }
  showChat(page === 'chat' ? chatId : null);
}

/** A message to scroll to once its chat is open (a search hit), and the scroll. */
let pendingFocus = null;
async function focusPending() {
  const target = pendingFocus;
  if (!target || store.activeChatId !== target.chatId) return;
  pendingFocus = null;
  if (await actions.reveal(target.chatId, target.seq)) conversation.scrollToMessage(target.seq);
  else toast('That message is no longer in this chat.');
}

function showChat(chatId) {
  store.activeChatId = chatId;
  conversation.show(chatId);
  store.changed('active');
  if (!chatId) return;
  const chat = store.chats.get(chatId);
  if (!chat.historyLoaded && !pendingFocus) loadHistory(chatId);
  if (!chat.members) refreshChat(chatId);
  focusPending();
}

let signingOut = false;
let sessionStarted = false;

async function startSession() {
  if (sessionStarted) return;
  sessionStarted = true;
  auth.hide();
  $('#app-view').hidden = false;
  try {
    store.me = await api.me();
    store.users.set(store.me.id, store.me);
    await refreshChatList();
    socket.start();
    await route();
  } catch (error) {
    if (error.status !== 401) toast('Could not reach YAC. Retrying…', { error: true });
    sessionStarted = false;
    if (api.signedIn) setTimeout(startSession, 3000);
  }
}

api.addEventListener('signedout', () => {
  socket.stop();
  sessionStarted = false;
  const wasUserChoice = signingOut;
  signingOut = false;
  resetStore();
  $('#app-view').hidden = true;
  auth.show();
  if (!wasUserChoice) toast('You were signed out.');
});

/** Empties the state for the next user; the views stay bound to the same store object. */
function resetStore() {
  conversation.show(null);
  store.me = null;
  store.users.clear();
  store.chats.clear();
  store.online.clear();
  store.activeChatId = null;
  sidebar.reset();
  search.reset();
  store.changed('chats');
}

window.addEventListener('hashchange', route);

createViews();
if (api.signedIn) startSession(); else auth.show();
