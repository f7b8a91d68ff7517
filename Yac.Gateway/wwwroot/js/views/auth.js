// Sign-in and registration forms (static markup in index.html).

import { $ } from '../dom.js';
import { ApiError } from '../api.js';

const usernamePattern = /^[a-z0-9_.-]{3,32}$/;

/** Wires the forms; `onSignedIn` runs after tokens are stored. */
export function initAuth(api, onSignedIn) {
  const view = $('#auth-view');
  const tabs = [$('#tab-sign-in'), $('#tab-register')];
  const signInForm = $('#sign-in-form');
  const registerForm = $('#register-form');

  const selectTab = (tab) => {
    for (const each of tabs) {
      const selected = each === tab;
      each.setAttribute('aria-selected', String(selected));
      each.tabIndex = selected ? 0 : -1;
      document.getElementById(each.getAttribute('aria-controls')).hidden = !selected;
    }
    view.querySelector('[role=tabpanel]:not([hidden]) input')?.focus();
  };
  for (const tab of tabs) {
    tab.addEventListener('click', () => selectTab(tab));
    tab.addEventListener('keydown', (event) => {
      if (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight') return;
      const next = tabs[(tabs.indexOf(tab) + 1) % tabs.length];
      next.focus();
      selectTab(next);
    });
  }

  signInForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const username = signInForm.username.value.trim().toLowerCase();
    const password = signInForm.password.value;
    if (!username || !password) return showError(signInForm, 'Enter your username and password.');
    return submit(signInForm, async () => {
      await api.signIn(username, password);
      signInForm.reset();
      onSignedIn();
    }, (error) => (error.status === 401 ? 'Wrong username or password.' : error.status === 429 ? 'Too many attempts. Wait a minute and try again.' : null));
  });

  registerForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const username = registerForm.username.value.trim().toLowerCase();
    const displayName = registerForm.displayName.value.trim();
    const password = registerForm.password.value;
    if (!usernamePattern.test(username)) return showError(registerForm, 'Usernames are 3-32 characters: letters, digits, _ . -');
    if (password.length < 8 || password.length > 128) return showError(registerForm, 'Passwords are 8-128 characters.');
    return submit(registerForm, async () => {
      await api.register(username, password, displayName);
      await api.signIn(username, password);
      registerForm.reset();
      onSignedIn();
    }, (error) => (error.status === 409 ? 'That username is taken.' : null));
  });

  return {
    show() {
      view.hidden = false;
      signInForm.hidden ? $('#register-username').focus() : $('#sign-in-username').focus();
    },
    hide() { view.hidden = true; },
  };
}

async function submit(form, work, explain) {
  const button = form.querySelector('button[type=submit]');
  showError(form, '');
  button.disabled = true;
  try {
    await work();
  } catch (error) {
    const message = error instanceof ApiError ? explain(error) ?? error.userMessage : 'Something went wrong.';
    showError(form, error.status === 0 ? 'Cannot reach the server. Check your connection.' : message);
  } finally {
    button.disabled = false;
  }
}

function showError(form, message) {
  const error = form.querySelector('.form-error');
  error.textContent = message;
  error.hidden = !message;
}
