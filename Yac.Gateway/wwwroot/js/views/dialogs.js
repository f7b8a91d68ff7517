// Dialogs: new chat (direct or group), join a public chat, chat info with members.

import { $, h, avatar, icon } from '../dom.js';
import { ApiError } from '../api.js';

const roleLabels = { owner: 'Owner', admin: 'Admin', member: 'Member' };
const chatIdPattern = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/i;

export function createDialogs(store, actions) {
  for (const dialog of document.querySelectorAll('dialog')) {
    dialog.addEventListener('click', (event) => {
      if (event.target.closest('[data-close]') || event.target === dialog) dialog.close();
    });
  }
  const newChat = createNewChatDialog(actions);
  const join = createJoinDialog(actions);
  const info = createInfoDialog(store, actions);
  return { newChat, join, info };
}

function createNewChatDialog(actions) {
  const dialog = $('#new-chat-dialog');
  const form = dialog.querySelector('form');
  const sections = dialog.querySelectorAll('[data-kind]');
  const kind = () => form.kind.value;
  const syncKind = () => {
    for (const section of sections) section.hidden = section.dataset.kind !== kind();
  };
  form.addEventListener('change', syncKind);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const run = kind() === 'direct'
      ? () => {
        const username = form.username.value.trim().toLowerCase();
        if (!username) throw new UserError('Enter the username of the person to write to.');
        return actions.createDirect(username);
      }
      : () => {
        const title = form.title.value.trim();
        if (!title) throw new UserError('Give the group a name.');
        const usernames = form.members.value.split(/[\s,;]+/).map((name) => name.trim().toLowerCase()).filter(Boolean);
        return actions.createGroup(title, form.visibility.value, usernames);
      };
    submitting(form, run, () => dialog.close());
  });

  return {
    open() {
      form.reset();
      syncKind();
      showError(form, '');
      dialog.showModal();
      form.username.focus();
    },
  };
}

function createJoinDialog(actions) {
  const dialog = $('#join-dialog');
  const form = dialog.querySelector('form');
  const preview = $('#join-preview');

  const chatIdFrom = (value) => value.match(chatIdPattern)?.[1] ?? null;

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submitting(form, () => {
      const chatId = chatIdFrom(form.chat.value);
      if (!chatId) throw new UserError('Paste a chat link or a chat id.');
      return actions.join(chatId);
    }, () => dialog.close());
  });

  return {
    async open(chatId = '') {
      form.reset();
      showError(form, '');
      preview.hidden = true;
      form.chat.value = chatId;
      dialog.showModal();
      form.chat.focus();
      if (!chatId) return;
      try {
        const chat = await actions.previewChat(chatId);
        preview.replaceChildren(avatar(chat.id, chat.title), h('div', {},
          h('strong', { text: chat.title || 'Untitled group' }),
          h('span', { className: 'subtitle', text: `${chat.visibility === 'public' ? 'Public group' : 'Private group'} · ${chat.members?.length ?? 0} members` })));
        preview.hidden = false;
      } catch (error) {
        showError(form, error.status === 404 ? 'This chat does not exist or is not public.' : describe(error));
      }
    },
  };
}

function createInfoDialog(store, actions) {
  const dialog = $('#info-dialog');
  const title = $('#info-title');
  const summary = $('#info-summary');
  const link = $('#info-link');
  const members = $('#member-list');
  const addForm = $('#add-member-form');
  const addInput = $('#add-member-input');
  const leave = $('#leave-button');
  let chatId = null;

  function render() {
    const chat = store.chats.get(chatId);
    if (!chat) {
      if (dialog.open) dialog.close();
      return;
    }
    const myRole = chat.members?.find((member) => member.userId === store.me.id)?.role ?? 'member';
    const canManage = chat.kind === 'group' && (myRole === 'owner' || myRole === 'admin');
    title.textContent = store.chatTitle(chat);
    summary.textContent = chat.kind === 'direct' ? 'Direct chat' : `${chat.visibility === 'public' ? 'Public' : 'Private'} group · you are ${roleLabels[myRole].toLowerCase()}`;

    link.hidden = !(chat.kind === 'group' && chat.visibility === 'public');
    if (!link.hidden) {
      const url = `${location.origin}/#/join/${chat.id}`;
      const field = h('input', { readOnly: true, value: url, id: 'share-link', attrs: { 'aria-label': 'Invite link' } });
      link.replaceChildren(field, h('button', {
        type: 'button', text: 'Copy link',
        on: { click: async (event) => { field.select(); try { await navigator.clipboard.writeText(url); event.target.textContent = 'Copied'; } catch { /* selected for manual copy */ } } },
      }));
    }

    const sorted = [...(chat.members ?? [])].sort((a, b) => rank(a.role) - rank(b.role) || store.displayName(a.userId).localeCompare(store.displayName(b.userId)));
    members.replaceChildren(...sorted.map((member) => {
      const name = store.displayName(member.userId);
      const isMe = member.userId === store.me.id;
      const removable = canManage && !isMe && member.role !== 'owner' && !(myRole === 'admin' && member.role === 'admin');
      return h('li', { className: 'member' },
        avatar(member.userId, name, { online: isMe || store.online.has(member.userId) }),
        h('span', { className: 'member-text' },
          h('span', { className: 'member-name', text: isMe ? `${name} (you)` : name }),
          h('span', { className: 'subtitle', text: `@${store.users.get(member.userId)?.username ?? '…'}` })),
        member.role !== 'member' ? h('span', { className: `role role-${member.role}`, text: roleLabels[member.role] }) : null,
        removable ? h('button', {
          type: 'button', className: 'icon-button small', attrs: { 'aria-label': `Remove ${name}`, title: `Remove ${name}` },
          on: { click: () => submitting(addForm, () => actions.removeMember(chat.id, member.userId)) },
        }, icon('close')) : null);
    }));
    addForm.hidden = !canManage;
    leave.hidden = chat.kind === 'direct';
  }

  addForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const username = addInput.value.trim().toLowerCase();
    if (!username) return;
    submitting(addForm, () => actions.addMember(chatId, username), () => { addInput.value = ''; });
  });

  // Two steps instead of a native confirm(): the second click within a few seconds leaves.
  let confirmTimer = 0;
  const resetLeave = () => {
    clearTimeout(confirmTimer);
    delete leave.dataset.confirm;
    leave.textContent = 'Leave chat';
  };
  leave.addEventListener('click', () => {
    if (!leave.dataset.confirm) {
      leave.dataset.confirm = 'true';
      leave.textContent = 'Click again to leave';
      confirmTimer = setTimeout(resetLeave, 4000);
      return;
    }
    resetLeave();
    submitting(addForm, () => actions.leave(chatId), () => dialog.close());
  });
  dialog.addEventListener('close', resetLeave);

  store.addEventListener('change', (event) => {
    if (dialog.open && (!event.detail.chatId || event.detail.chatId === chatId)) render();
  });

  return {
    open(id) {
      chatId = id;
      showError(addForm, '');
      render();
      dialog.showModal();
      actions.refreshChat(id);
    },
  };
}

function rank(role) {
  return role === 'owner' ? 0 : role === 'admin' ? 1 : 2;
}

class UserError extends Error {}

/** Runs a form's action, showing its error in the form's (or dialog's) error line. */
async function submitting(form, work, onDone) {
  const buttons = form.closest('dialog')?.querySelectorAll('button[type=submit]') ?? [];
  showError(form, '');
  for (const button of buttons) button.disabled = true;
  try {
    await work();
    onDone?.();
  } catch (error) {
    showError(form, describe(error));
  } finally {
    for (const button of buttons) button.disabled = false;
  }
}

function describe(error) {
  if (error instanceof UserError) return error.message;
  if (error instanceof ApiError) {
    if (error.status === 0) return 'Cannot reach the server.';
    if (error.status === 403) return 'You are not allowed to do that.';
    return error.userMessage;
  }
  return error?.message ?? 'Something went wrong.';
}

function showError(form, message) {
  const error = form.closest('dialog')?.querySelector('.form-error') ?? form.querySelector('.form-error');
  error.textContent = message;
  error.hidden = !message;
}
