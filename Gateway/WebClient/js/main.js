// Starts the page: the sign-in form, or (with a saved session) the chat.

import { AuthError, Session, USER_ID, deviceIdFor, register } from './auth.js';
import { Connection } from './connection.js';
import { Chat } from './chat.js';
import { ChatView } from './view.js';

const $ = id => document.getElementById(id);

let current = null; // {connection, view} while signed in

function showLogin(message = '') {
  $('app').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
  $('login-user').focus();
}

function start(session) {
  const connection = new Connection(session, deviceIdFor(session.user));
  const chat = new Chat(connection);
  const view = new ChatView(chat, connection, { onLogout: () => logout(session) });
  current = { connection, chat, view };
  connection.addEventListener('fatal', e => {
    if (e.detail.code === 'signed_out' || e.detail.code === 'not_authorized') {
      logout(session, e.detail.message);
    } else {
      view.showFatal(e.detail.message, e.detail.code === 'taken_over' ? () => { stop(); start(session); } : null);
    }
  });
  $('login').hidden = true;
  $('app').hidden = false;
  view.mount();
  connection.start();
}

function stop() {
  current?.connection.stop();
  current?.chat.dispose();
  current?.view.unmount();
  current = null;
}

function logout(session, message = '') {
  stop();
  session.clear();
  showLogin(message);
}

async function onLogin(event) {
  event.preventDefault();
  const user = $('login-user').value.trim();
  const password = $('login-password').value;
  const action = event.submitter?.value ?? 'signin';
  const error = $('login-error');
  error.textContent = '';
  if (!USER_ID.test(user)) {
    error.textContent = 'A user name is 1–64 characters of a-z, 0-9, _ . -';
    $('login-user').focus();
    return;
  }
  if (!password) {
    error.textContent = 'Enter a password.';
    $('login-password').focus();
    return;
  }
  const buttons = [$('login-signin'), $('login-signup')];
  buttons.forEach(b => { b.disabled = true; });
  try {
    if (action === 'signup')
      await register(user, password);
    const session = await Session.signIn(user, password);
    $('login-password').value = '';
    start(session);
  } catch (e) {
    error.textContent = e instanceof AuthError ? `${describe(e)}` : `Could not reach the server: ${e.message}`;
  } finally {
    buttons.forEach(b => { b.disabled = false; });
  }
}

function describe(e) {
  switch (e.code) {
    case 'invalid_grant': return 'Wrong user name or password.';
    case 'already_exists': return 'That user name is taken. Sign in instead?';
    case 'forbidden': return 'Sign-up is turned off on this server; ask an administrator for an account.';
    default: return e.message;
  }
}

$('login-form').addEventListener('submit', onLogin);

const saved = Session.restore();
if (saved)
  start(saved);
else
  showLogin();
