// The signed-in page: conversation list, the open conversation, contacts, own status. Renders from Chat's state
// with textContent only (never HTML from the network).

import { directPeer } from './chat.js';

const $ = id => document.getElementById(id);
const TYPING_EVERY_MS = 3000;
const NARROW = window.matchMedia('(max-width: 700px)');

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'dataset')
      Object.assign(node.dataset, value);
    else if (key.startsWith('on'))
      node.addEventListener(key.slice(2), value);
    else if (key in node)
      node[key] = value;
    else
      node.setAttribute(key, value);
  }
  node.append(...children.filter(c => c !== null && c !== undefined && c !== false));
  return node;
}

function time(ts) {
  if (!ts)
    return '';
  const d = new Date(ts);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : d.toLocaleDateString();
}

const TICKS = { sending: '🕓', sent: '✓', delivered: '✓✓', read: '✓✓', failed: '!' };
const TICK_LABELS = { sending: 'Sending', sent: 'Sent', delivered: 'Delivered', read: 'Read', failed: 'Not sent' };

export class ChatView {
  #chat;
  #conn;
  #onLogout;
  #abort = new AbortController();
  #lastTyping = 0;
  #stickToBottom = true;

  constructor(chat, connection, { onLogout }) {
    this.#chat = chat;
    this.#conn = connection;
    this.#onLogout = onLogout;
  }

  mount() {
    const signal = this.#abort.signal;
    const on = (target, type, handler) => target.addEventListener(type, handler, { signal });
    $('me-name').textContent = this.#chat.me;
    $('connection').textContent = 'connecting…';
    $('toasts').replaceChildren();
    this.#showTab('chats');
    this.#renderOpen();

    on(this.#chat, 'change', e => this.#onChange(e.detail));
    on(this.#chat, 'notice', e => this.toast(e.detail.text));
    on(this.#chat, 'incoming', e => this.#announce(e.detail));
    on(this.#conn, 'status', e => this.#renderStatus(e.detail.state));

    on($('logout'), 'click', () => this.#onLogout());
    on($('tab-chats'), 'click', () => this.#showTab('chats'));
    on($('tab-contacts'), 'click', () => this.#showTab('contacts'));
    on($('direct-form'), 'submit', e => this.#submit(e, 'direct-user', user => this.#chat.openDirect(user)));
    on($('group-form'), 'submit', e => this.#createGroup(e));
    on($('contact-form'), 'submit', e => this.#submit(e, 'contact-user', user => this.#chat.addContact(user)));
    on($('add-member-form'), 'submit', e => this.#submit(e, 'add-member-user', user => this.#chat.addMembers(this.#chat.open, [user])));
    on($('status-form'), 'submit', e => {
      e.preventDefault();
      this.#chat.setStatus($('status-select').value, $('status-text').value.trim());
      this.toast('Status set');
    });
    on($('chat-back'), 'click', () => {
      this.#chat.closeConversation();
      $('conversations').querySelector('button')?.focus();
    });
    on($('chat-block'), 'click', () => this.#toggleBlock());
    on($('composer'), 'submit', e => { e.preventDefault(); this.#send(); });
    on($('composer-text'), 'keydown', e => {
      // Enter sends; Shift+Enter makes a new line; an IME composition is left alone.
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.#send();
      }
    });
    on($('composer-text'), 'input', () => {
      if (this.#chat.open && Date.now() - this.#lastTyping > TYPING_EVERY_MS && $('composer-text').value) {
        this.#lastTyping = Date.now();
        this.#chat.typingIn(this.#chat.open);
      }
    });
    on($('messages'), 'scroll', () => {
      const list = $('messages');
      this.#stickToBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
      if (list.scrollTop < 80 && this.#chat.open)
        this.#chat.loadOlder(this.#chat.open).catch(e => this.toast(e.message));
    });
    on(document, 'visibilitychange', () => this.#chat.markReadIfSeen());
    on(NARROW, 'change', () => this.#renderOpen());
    const status = this.#chat.myStatus;
    $('status-select').value = status.status;
    $('status-text').value = status.text ?? '';
  }

  unmount() {
    this.#abort.abort();
    $('conversations').replaceChildren();
    $('contacts').replaceChildren();
    $('blocked').replaceChildren();
    $('messages').replaceChildren();
    $('announcer').textContent = '';
    $('chat-view').hidden = true;
    $('chat-empty').hidden = false;
  }

  toast(text) {
    const toast = el('p', { className: 'toast' }, text);
    $('toasts').append(toast);
    setTimeout(() => toast.remove(), 6000);
  }

  /** The connection cannot go on by itself (taken over in another tab, too many devices). */
  showFatal(message, retry) {
    $('connection').textContent = 'disconnected';
    const toast = el('p', { className: 'toast fatal', role: 'alert' }, message, ' ');
    if (retry)
      toast.append(el('button', { type: 'button', onclick: () => { toast.remove(); retry(); } }, 'Use here'));
    $('toasts').append(toast);
  }

  /** Tells screen readers about a new message, once (the list itself is redrawn, so it is not a live region). */
  #announce(message) {
    const where = message.conv.startsWith('d:') ? '' : ` in ${this.#chat.titleOf(message.conv)}`;
    $('announcer').textContent = `${message.from}${where}: ${message.body}`;
  }

    #renderStatus(state) {
    const text = { online: 'online', connecting: 'connecting…', offline: 'offline, reconnecting…', stopped: 'disconnected' }[state];
    $('connection').textContent = text;
    $('connection').dataset.state = state;
  }

  #onChange({ what, conv }) {
    if (what === 'convs' || what === 'messages' || what === 'marks')
      this.#renderConversations();
    if (what === 'contacts') {
      this.#renderContacts();
      this.#renderHeader();
    }
    if (what === 'open') {
      this.#renderOpen();
      this.#renderConversations();
    }
    if (conv && conv === this.#chat.open) {
      if (what === 'messages' || what === 'marks' || what === 'convs')
        this.#renderMessages();
      if (what === 'older')
        this.#renderMessages({ keepPosition: true });
      if (what === 'typing' || what === 'messages')
        this.#renderTyping();
      if (what === 'convs')
        this.#renderHeader();
    }
  }

  #showTab(tab) {
    $('chats-panel').hidden = tab !== 'chats';
    $('contacts-panel').hidden = tab !== 'contacts';
    $('tab-chats').setAttribute('aria-pressed', String(tab === 'chats'));
    $('tab-contacts').setAttribute('aria-pressed', String(tab === 'contacts'));
  }

  async #submit(event, inputId, action) {
    event.preventDefault();
    const input = $(inputId);
    const value = input.value.trim().toLowerCase();
    if (!value)
      return;
    try {
      await action(value);
      input.value = '';
    } catch (e) {
      this.toast(`${value}: ${e.message}`);
    }
  }

  async #createGroup(event) {
    event.preventDefault();
    const title = $('group-title').value.trim();
    const members = $('group-members').value.split(',').map(s => s.trim().toLowerCase()).filter(Boolean);
    try {
      await this.#chat.createGroup(title, members);
      $('group-title').value = '';
      $('group-members').value = '';
      $('group-details').open = false;
    } catch (e) {
      this.toast(`Group not created: ${e.message}`);
    }
  }

  #renderConversations() {
    const items = this.#chat.sortedConversations().map(c => {
      const unread = this.#chat.unread(c.conv);
      const last = c.last ? `${c.last.from === this.#chat.me ? 'You: ' : c.kind === 'group' ? `${c.last.from}: ` : ''}${c.last.body}` : '';
      const title = this.#chat.titleOf(c.conv);
      const button = el('button', {
        type: 'button',
        className: 'conversation',
        dataset: { conv: c.conv },
        'aria-current': c.conv === this.#chat.open ? 'true' : 'false',
        'aria-label': `${title}${unread ? `, ${unread} unread` : ''}${last ? `: ${last}` : ''}`,
        onclick: () => this.#chat.openConversation(c.conv).catch(e => this.toast(e.message)),
      },
      el('span', { className: 'conv-title' }, title),
      el('span', { className: 'conv-time' }, time(c.last?.ts)),
      el('span', { className: 'conv-last' }, last),
      unread ? el('span', { className: 'unread', dataset: { count: String(unread) } }, String(unread)) : null);
      return el('li', {}, button);
    });
    $('conversations').replaceChildren(...items);
  }

  #renderOpen() {
    const conv = this.#chat.open;
    $('chat-view').hidden = !conv;
    $('chat-empty').hidden = !!conv;
    document.body.classList.toggle('chat-open', !!conv);
    if (!conv)
      return;
    this.#stickToBottom = true;
    this.#renderHeader();
    this.#renderMessages();
    this.#renderTyping();
    $('composer-text').focus();
  }

  #renderHeader() {
    const conv = this.#chat.open;
    if (!conv)
      return;
    const c = this.#chat.convs.get(conv);
    $('chat-title').textContent = this.#chat.titleOf(conv);
    const direct = conv.startsWith('d:');
    if (direct) {
      const peer = directPeer(conv, this.#chat.me);
      const p = this.#chat.presence.get(peer);
      $('chat-subtitle').textContent = p && this.#chat.contacts.includes(peer) ? this.#presenceText(p) : '';
      $('chat-block').hidden = false;
      $('chat-block').textContent = this.#chat.blocks.has(peer) ? `Unblock ${peer}` : `Block ${peer}`;
    } else {
      $('chat-subtitle').textContent = (c?.members ?? []).map(m => m.role === 'member' ? m.user : `${m.user} (${m.role})`).join(', ');
      $('chat-block').hidden = true;
    }
    const me = c?.members?.find(m => m.user === this.#chat.me);
    $('add-member-form').hidden = direct || !me || me.role === 'member';
  }

  #renderMessages({ keepPosition = false } = {}) {
    const conv = this.#chat.open;
    const list = $('messages');
    const { stored, pending, complete } = this.#chat.messagesOf(conv);
    const before = list.scrollHeight - list.scrollTop;
    const items = [];
    if (complete)
      items.push(el('li', { className: 'history-start' }, 'Beginning of the conversation'));
    for (const m of stored) {
      if (m.kind)
        continue; // an edit, delete or reaction: already folded onto its message
      const mine = m.from === this.#chat.me;
      const status = mine ? this.#chat.statusOf(conv, m.seq) : null;
      items.push(this.#message(m, mine, status, { seq: String(m.seq) }));
    }
    for (const p of pending) {
      const status = p.state === 'failed' ? 'failed' : 'sending';
      const item = this.#message({ from: this.#chat.me, body: p.body, ts: p.ts, id: p.id }, true, status, { pending: p.id });
      if (p.state === 'failed')
        item.append(el('p', { className: 'send-error' }, `Not sent: ${p.error} `,
          el('button', { type: 'button', onclick: () => this.#chat.retry(p.id) }, 'Retry'), ' ',
          el('button', { type: 'button', className: 'secondary', onclick: () => this.#chat.discard(p.id) }, 'Discard')));
      items.push(item);
    }
    list.replaceChildren(...items);
    if (keepPosition)
      list.scrollTop = list.scrollHeight - before;
    else if (this.#stickToBottom)
      list.scrollTop = list.scrollHeight;
    // A page that does not fill the list leaves nothing to scroll: fetch the next older one at once.
    if (!complete && stored.length > 0 && list.scrollHeight <= list.clientHeight)
      this.#chat.loadOlder(conv).catch(e => this.toast(e.message));
  }

  #message(m, mine, status, dataset) {
    const group = !this.#chat.open.startsWith('d:');
    return el('li', { className: mine ? 'message mine' : 'message', dataset: { ...dataset, from: m.from } },
      group && !mine ? el('span', { className: 'from' }, m.from) : null,
      el('p', { className: m.deleted ? 'body deleted' : 'body' }, m.deleted ? 'Message deleted' : m.body),
      m.reactions && Object.keys(m.reactions).length
        ? el('p', { className: 'reactions' }, Object.entries(m.reactions).map(([emoji, users]) => `${emoji} ${users.length}`).join('  '))
        : null,
      el('span', { className: 'meta' },
        el('time', { dateTime: m.ts ? new Date(m.ts).toISOString() : '' }, time(m.ts)),
        m.edited && !m.deleted ? el('span', { className: 'edited' }, ' edited') : null,
        status ? el('span', { className: `tick ${status}`, dataset: { status }, title: TICK_LABELS[status], 'aria-label': TICK_LABELS[status] }, TICKS[status]) : null));
  }

  #renderTyping() {
    const conv = this.#chat.open;
    const typists = conv ? this.#chat.typists(conv) : [];
    $('typing').textContent = typists.length === 0 ? '' : `${typists.join(', ')} ${typists.length === 1 ? 'is' : 'are'} typing…`;
  }

  #send() {
    const text = $('composer-text').value;
    if (!this.#chat.open || !text.trim())
      return;
    this.#chat.send(this.#chat.open, text);
    $('composer-text').value = '';
    this.#lastTyping = 0;
    this.#stickToBottom = true;
  }

  async #toggleBlock() {
    const peer = directPeer(this.#chat.open, this.#chat.me);
    try {
      if (this.#chat.blocks.has(peer))
        await this.#chat.unblock(peer);
      else
        await this.#chat.block(peer);
    } catch (e) {
      this.toast(e.message);
    }
  }

  #presenceText(p) {
    const status = p.status ?? 'offline';
    if (status === 'offline')
      return p.lastSeen ? `offline, last seen ${time(p.lastSeen)}` : 'offline';
    return p.text ? `${status} — ${p.text}` : status;
  }

  #renderContacts() {
    const chat = this.#chat;
    const contacts = chat.contacts.map(user => {
      const p = chat.presence.get(user) ?? { status: 'offline' };
      const blocked = chat.blocks.has(user);
      return el('li', { className: 'contact', dataset: { user, status: p.status } },
        el('span', { className: `dot ${p.status}`, 'aria-hidden': 'true' }),
        el('span', { className: 'contact-name' }, user),
        el('span', { className: 'contact-status' }, this.#presenceText(p)),
        el('span', { className: 'contact-actions' },
          el('button', { type: 'button', onclick: () => this.#chat.openDirect(user).then(() => this.#showTab('chats')).catch(e => this.toast(e.message)) }, 'Message'),
          el('button', { type: 'button', className: 'secondary', onclick: () => (blocked ? chat.unblock(user) : chat.block(user)).catch(e => this.toast(e.message)) }, blocked ? 'Unblock' : 'Block'),
          el('button', { type: 'button', className: 'secondary', 'aria-label': `Remove ${user} from contacts`, onclick: () => chat.removeContact(user).catch(e => this.toast(e.message)) }, 'Remove')));
    });
    $('contacts').replaceChildren(...(contacts.length ? contacts : [el('li', { className: 'hint' }, 'No contacts yet.')]));
    const blocked = [...chat.blocks].sort().map(user => el('li', { className: 'contact', dataset: { user } },
      el('span', { className: 'contact-name' }, user),
      el('button', { type: 'button', className: 'secondary', onclick: () => chat.unblock(user).catch(e => this.toast(e.message)) }, 'Unblock')));
    $('blocked').replaceChildren(...(blocked.length ? blocked : [el('li', { className: 'hint' }, 'Nobody.')]));
  }
}
