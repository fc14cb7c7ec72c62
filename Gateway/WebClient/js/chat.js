// The client's state and rules, apart from the page: conversations, messages (one per (conv, seq), so replays and
// retries never show twice), the outbox of unacknowledged sends, read/delivered marks, typing, contacts, presence.
// It emits 'change' {what, conv?}, 'incoming' (a new message from someone else) and 'notice' {text} events for the view.

import { PublishError } from './connection.js';

const PAGE = 50;
const TYPING_SHOWN_MS = 6000;
const PREVIEWS_ON_CONNECT = 30;
// The server tells nobody when a conversation is created with them (docs/protocol.md §5): look now and then.
const LIST_POLL_MS = 60_000;

export function directPeer(conv, me) {
  const [, a, b] = conv.split(':');
  return a === me ? b : a;
}

export class Chat extends EventTarget {
  convs = new Map();      // conv → {conv, kind, title?, members?, lastSeq, readSeq, last?}
  loaded = new Map();     // conv → {messages: Map(seq → message), from, to, complete} for opened conversations
  reads = new Map();      // conv → Map(user → seq): the other members' read marks
  delivered = new Map();  // conv → Map(user → seq)
  typing = new Map();     // conv → Map(user → until)
  contacts = [];
  presence = new Map();   // user → presence
  blocks = new Set();
  outbox = [];            // {conv, id, body, ts, state: 'queued' | 'sending' | 'failed', error?}
  open = null;
  #conn;
  #sendCounter = 0;
  #filling = new Set();
  #refreshTimer = 0;
  #pollTimer = 0;

  constructor(conn) {
    super();
    this.#conn = conn;
    this.outbox = this.#loadOutbox();
    conn.addEventListener('connected', () => this.#onConnected());
    conn.addEventListener('message', e => this.#onMessage(e.detail));
    conn.addEventListener('event', e => this.#onEvent(e.detail));
    conn.addEventListener('presence', e => this.#setPresence(e.detail));
    this.#pollTimer = setInterval(() => {
      if (conn.connected && document.visibilityState === 'visible')
        this.#loadConversations().catch(() => {});
    }, LIST_POLL_MS);
  }

  dispose() {
    clearInterval(this.#pollTimer);
    clearTimeout(this.#refreshTimer);
  }

  get me() { return this.#conn.user; }

  titleOf(conv) {
    const c = this.convs.get(conv);
    if (conv.startsWith('d:'))
      return directPeer(conv, this.me);
    return c?.title || 'Group';
  }

  unread(conv) {
    const c = this.convs.get(conv);
    return c ? Math.max(0, c.lastSeq - c.readSeq) : 0;
  }

  /** Conversations, latest activity first. */
  sortedConversations() {
    return [...this.convs.values()].sort((a, b) => (b.last?.ts ?? 0) - (a.last?.ts ?? 0) || b.lastSeq - a.lastSeq || a.conv.localeCompare(b.conv));
  }

  /** The open conversation's messages in seq order, then its sends still waiting for their PUBACK. */
  messagesOf(conv) {
    const window = this.loaded.get(conv);
    const stored = window ? [...window.messages.values()].sort((a, b) => a.seq - b.seq) : [];
    return { stored, pending: this.outbox.filter(o => o.conv === conv), complete: window?.complete ?? false };
  }

  /** 'sent', 'delivered' or 'read' for one of my stored messages. */
  statusOf(conv, seq) {
    const others = this.#others(conv);
    const reads = this.reads.get(conv) ?? new Map();
    if (others.length > 0 && others.every(u => (reads.get(u) ?? 0) >= seq))
      return 'read';
    const delivered = this.delivered.get(conv) ?? new Map();
    if (others.length > 0 && others.every(u => Math.max(delivered.get(u) ?? 0, reads.get(u) ?? 0) >= seq))
      return 'delivered';
    return 'sent';
  }

  typists(conv) {
    const now = Date.now();
    return [...(this.typing.get(conv) ?? new Map())].filter(([, until]) => until > now).map(([user]) => user);
  }

  // ---- actions ----

  async openDirect(user) {
    const c = await this.#conn.rpc('conv.create', { kind: 'direct', members: [user] });
    this.#merge(c);
    await this.openConversation(c.conv);
  }

  async createGroup(title, members) {
    const c = await this.#conn.rpc('conv.create', title ? { kind: 'group', members, title } : { kind: 'group', members });
    this.#merge(c);
    await this.openConversation(c.conv);
  }

  async addMembers(conv, members) {
    this.#merge(await this.#conn.rpc('conv.add', { conv, members }));
    this.#changed('convs', conv);
  }

  async openConversation(conv) {
    this.open = conv;
    this.#changed('open', conv);
    const [info, page, reads] = await Promise.all([
      this.#conn.rpc('conv.get', { conv }),
      this.#conn.rpc('history', { conv, limit: PAGE }),
      this.#conn.rpc('conv.reads', { conv }),
    ]);
    this.#merge(info);
    this.reads.set(conv, new Map(Object.entries(reads.reads ?? {}).filter(([u]) => u !== this.me)));
    // A fresh window from the newest page: older pages follow on scroll, newer messages arrive live.
    const window = { messages: new Map(), from: 0, to: 0, complete: false };
    this.loaded.set(conv, window);
    this.#insert(conv, page.messages ?? [], { olderPage: true });
    this.#changed('messages', conv);
    this.markReadIfSeen();
  }

  closeConversation() {
    this.open = null;
    this.#changed('open', null);
  }

  /** The next older page of the open conversation. */
  async loadOlder(conv) {
    const window = this.loaded.get(conv);
    if (!window || window.complete || window.loadingOlder)
      return;
    window.loadingOlder = true;
    try {
      const page = await this.#conn.rpc('history', { conv, before: window.from, limit: PAGE });
      this.#insert(conv, page.messages ?? [], { olderPage: true });
      this.#changed('older', conv);
    } finally {
      window.loadingOlder = false;
    }
  }

  /** Queues a message: it stays in the outbox (kept across reloads) until its PUBACK, and is sent again with the
   * same id after a reconnect or reload, so the server stores it once. */
  send(conv, body) {
    const id = `${this.#conn.device}.${Date.now().toString(36)}.${++this.#sendCounter}`;
    const entry = { conv, id, body, ts: Date.now(), state: 'queued' };
    this.outbox.push(entry);
    this.#saveOutbox();
    this.#changed('messages', conv);
    this.#deliver(entry);
  }

  retry(id) {
    const entry = this.outbox.find(o => o.id === id);
    if (entry) {
      entry.attempts = 0;
      this.#deliver(entry);
    }
  }

  discard(id) {
    const entry = this.outbox.find(o => o.id === id);
    this.outbox = this.outbox.filter(o => o.id !== id);
    this.#saveOutbox();
    if (entry)
      this.#changed('messages', entry.conv);
  }

  typingIn(conv) { this.#conn.typing(conv); }

  /** Marks the open conversation read up to its last message, when the page is actually visible. */
  markReadIfSeen() {
    const c = this.open && this.convs.get(this.open);
    if (!c || document.visibilityState !== 'visible' || c.lastSeq <= c.readSeq || !this.#conn.connected)
      return;
    c.readSeq = c.lastSeq;
    this.#conn.markRead(c.conv, c.lastSeq);
    this.#changed('convs', c.conv);
  }

  async addContact(user) {
    await this.#conn.rpc('contacts.add', { user });
    await this.#loadContacts();
  }

  async removeContact(user) {
    await this.#conn.rpc('contacts.remove', { user });
    await this.#loadContacts();
  }

  async block(user) {
    await this.#conn.rpc('block', { user });
    this.blocks.add(user);
    this.#changed('contacts');
  }

  async unblock(user) {
    await this.#conn.rpc('unblock', { user });
    this.blocks.delete(user);
    this.#changed('contacts');
  }

  setStatus(status, text) {
    localStorage.setItem(`im.status.${this.me}`, JSON.stringify({ status, text }));
    this.#conn.setPresence(status, text);
    this.presence.set(this.me, { user: this.me, status, text });
    this.#changed('contacts');
  }

  get myStatus() {
    try {
      return JSON.parse(localStorage.getItem(`im.status.${this.me}`) ?? 'null') ?? { status: 'online', text: '' };
    } catch {
      return { status: 'online', text: '' };
    }
  }

  // ---- catching up after every connect ----

  async #onConnected() {
    // Sends that were never handed to MQTT.js on this page (queued, or loaded from a previous page) go out now.
    for (const entry of this.outbox.filter(o => o.state === 'queued'))
      this.#deliver(entry);
    const status = this.myStatus;
    if (status.status !== 'online' || status.text)
      this.#conn.setPresence(status.status, status.text);
    try {
      await this.#loadConversations();
      await Promise.all([this.#loadContacts(), this.#loadBlocks()]);
      if (this.open)
        await this.#catchUpOpen(this.open);
      await this.#loadPreviews();
    } catch (error) {
      this.#notice(`Could not load everything: ${error.message}`);
    }
  }

  async #loadConversations() {
    const { conversations = [] } = await this.#conn.rpc('conv.list');
    const seen = new Set();
    for (const summary of conversations) {
      seen.add(summary.conv);
      this.#merge(summary);
    }
    for (const conv of [...this.convs.keys()])
      if (!seen.has(conv))
        this.convs.delete(conv);
    this.#changed('convs');
    this.markReadIfSeen();
  }

  /** The last message of each conversation for the list (conv.list has seqs, not bodies). */
  async #loadPreviews() {
    const stale = this.sortedConversations().filter(c => c.lastSeq > 0 && (c.last?.seq ?? 0) < c.lastSeq).slice(0, PREVIEWS_ON_CONNECT);
    for (const c of stale) {
      const { messages = [] } = await this.#conn.rpc('history', { conv: c.conv, limit: 1 });
      if (messages.length)
        this.#setLast(c, messages[messages.length - 1]);
    }
    this.#changed('convs');
  }

  /** After a reconnect the server replays what this device had not acknowledged; history fills anything else,
   * and read marks may have moved meanwhile. */
  async #catchUpOpen(conv) {
    const { reads = {} } = await this.#conn.rpc('conv.reads', { conv });
    this.reads.set(conv, new Map(Object.entries(reads).filter(([u]) => u !== this.me)));
    await this.#fillGap(conv);
    this.#changed('messages', conv);
  }

  async #loadContacts() {
    const { contacts = [] } = await this.#conn.rpc('contacts.list');
    this.contacts = contacts;
    const users = [this.me, ...contacts].slice(0, 100);
    const { presence = [] } = await this.#conn.rpc('presence.get', { users });
    for (const p of presence)
      this.presence.set(p.user, p);
    this.#changed('contacts');
  }

  async #loadBlocks() {
    const { users = [] } = await this.#conn.rpc('blocks.list');
    this.blocks = new Set(users);
    this.#changed('contacts');
  }

  // ---- what the server sends ----

  #onMessage(message) {
    if (message.kind) {
      this.#onEntry(message);
      return;
    }
    const known = this.loaded.get(message.conv)?.messages.has(message.seq) || this.convs.get(message.conv)?.last?.seq >= message.seq;
    if (!known && message.from !== this.me)
      this.dispatchEvent(new CustomEvent('incoming', { detail: message }));
    const c = this.#ensureConversation(message.conv);
    c.lastSeq = Math.max(c.lastSeq, message.seq);
    this.#setLast(c, message);
    this.typing.get(message.conv)?.delete(message.from);
    if (this.loaded.has(message.conv)) {
      this.#insert(message.conv, [message]);
      this.#changed('messages', message.conv);
    }
    this.#changed('convs', message.conv);
    if (message.conv === this.open)
      this.markReadIfSeen();
  }

  /** An entry that changes a message (docs/protocol.md §16): folded onto the message it names. Its seq still goes
   * into the window, so that the window stays contiguous, but it is not shown on its own. */
  #onEntry(entry) {
    const c = this.#ensureConversation(entry.conv);
    c.lastSeq = Math.max(c.lastSeq, entry.seq);
    const window = this.loaded.get(entry.conv);
    if (!window)
      return;
    const fold = target => {
      if (!target || target.kind)
        return;
      switch (entry.kind) {
        case 'edit': target.body = entry.body; target.edited = entry.ts; break;
        case 'delete': target.body = ''; target.deleted = true; delete target.attachments; break;
        case 'react':
        case 'unreact': {
          const reactions = { ...(target.reactions ?? {}) };
          const users = new Set(reactions[entry.emoji] ?? []);
          entry.kind === 'react' ? users.add(entry.from) : users.delete(entry.from);
          if (users.size) reactions[entry.emoji] = [...users]; else delete reactions[entry.emoji];
          target.reactions = reactions;
          break;
        }
      }
    };
    if (entry.kind === 'erase')
      for (const m of window.messages.values()) {
        if (m.kind)
          continue;
        if (m.from === entry.from) { m.body = ''; m.deleted = true; }
        for (const [emoji, users] of Object.entries(m.reactions ?? {})) {
          const rest = users.filter(u => u !== entry.from);
          if (rest.length) m.reactions[emoji] = rest; else delete m.reactions[emoji];
        }
      }
    fold(window.messages.get(entry.target));
    this.#insert(entry.conv, [entry]);
    this.#changed('messages', entry.conv);
  }

  #onEvent(event) {
    switch (event.type) {
      case 'conv_added':
        // Someone opened a chat with us or put us in a group: its title and members come from conv.list.
        this.#ensureConversation(event.conv);
        this.#refreshSoon();
        break;
      case 'read': {
        if (event.user === this.me) {
          const c = this.convs.get(event.conv);
          if (c)
            c.readSeq = Math.max(c.readSeq, event.seq);
          this.#changed('convs', event.conv);
        } else {
          this.#raise(this.reads, event.conv, event.user, event.seq);
        }
        this.#changed('marks', event.conv);
        break;
      }
      case 'delivered':
        if (event.user !== this.me) {
          this.#raise(this.delivered, event.conv, event.user, event.seq);
          this.#changed('marks', event.conv);
        }
        break;
      case 'typing': {
        if (!this.typing.has(event.conv))
          this.typing.set(event.conv, new Map());
        this.typing.get(event.conv).set(event.user, Date.now() + TYPING_SHOWN_MS);
        this.#changed('typing', event.conv);
        setTimeout(() => this.#changed('typing', event.conv), TYPING_SHOWN_MS + 50);
        break;
      }
      case 'member_added':
      case 'member_removed':
        if (event.user === this.me && event.type === 'member_removed') {
          this.convs.delete(event.conv);
          if (this.open === event.conv)
            this.closeConversation();
          this.#changed('convs');
        } else {
          this.#refreshSoon();
          if (this.open === event.conv)
            this.#conn.rpc('conv.get', { conv: event.conv }).then(c => { this.#merge(c); this.#changed('open', c.conv); }).catch(() => {});
        }
        break;
      case 'error':
        // A send's refusal is shown on the message itself (from its PUBACK).
        if (!this.outbox.some(o => o.id === event.ref))
          this.#notice(`${event.code}: ${event.message}`);
        break;
    }
  }

  #setPresence(p) {
    this.presence.set(p.user, p);
    this.#changed('contacts');
  }

  // ---- internals ----

  async #deliver(entry) {
    entry.state = 'sending';
    entry.attempts = (entry.attempts ?? 0) + 1;
    this.#changed('messages', entry.conv);
    try {
      const { seq, ts } = await this.#conn.send(entry.conv, entry.id, entry.body);
      this.outbox = this.outbox.filter(o => o.id !== entry.id);
      this.#saveOutbox();
      const message = { conv: entry.conv, seq, id: entry.id, from: this.me, dev: this.#conn.device, body: entry.body, ts };
      this.#onMessage(message);
      this.#changed('messages', entry.conv);
    } catch (error) {
      if (!this.outbox.includes(entry))
        return; // discarded meanwhile
      if (!(error instanceof PublishError)) {
        entry.state = 'failed'; // not the server's answer (a bug, a closed client): shown, so it can be retried
        entry.error = error.message;
      } else if (error.code === 0) {
        entry.state = 'queued'; // the connection dropped: sent again on the next connect
      } else if (error.retryable && entry.attempts < 6) {
        entry.state = 'queued';
        setTimeout(() => { if (entry.state === 'queued' && this.#conn.connected) this.#deliver(entry); }, 500 * 2 ** entry.attempts);
      } else {
        entry.state = 'failed';
        entry.error = error.message;
      }
      this.#changed('messages', entry.conv);
    }
  }

  /** Adds messages to an opened conversation's window, one per seq, and fills a gap if one opened. */
  #insert(conv, messages, { olderPage = false } = {}) {
    const window = this.loaded.get(conv);
    if (!window)
      return;
    for (const m of messages)
      if (!window.messages.has(m.seq))
        window.messages.set(m.seq, m);
    if (window.messages.size === 0) {
      window.complete = olderPage;
      return;
    }
    const seqs = [...window.messages.keys()];
    const min = Math.min(...seqs);
    if (olderPage) {
      window.from = min;
      if (messages.length < PAGE || min <= 1)
        window.complete = true;
      window.to = Math.max(window.to, ...seqs);
    } else if (messages.some(m => m.seq > window.to + 1) && window.to > 0) {
      this.#fillGap(conv).catch(e => this.#notice(`Could not load everything: ${e.message}`));
    } else {
      window.to = Math.max(window.to, ...seqs);
    }
    if (window.from === 0)
      window.from = min;
  }

  /** Fetches what lies between the window's last contiguous seq and the newest (§6 history, after). */
  async #fillGap(conv) {
    const window = this.loaded.get(conv);
    if (!window || this.#filling.has(conv))
      return;
    this.#filling.add(conv);
    try {
      for (;;) {
        const { messages = [] } = await this.#conn.rpc('history', { conv, after: window.to, limit: 200 });
        for (const m of messages)
          if (!window.messages.has(m.seq))
            window.messages.set(m.seq, m);
        if (messages.length > 0) {
          window.to = messages[messages.length - 1].seq;
          const c = this.convs.get(conv);
          if (c) {
            c.lastSeq = Math.max(c.lastSeq, window.to);
            this.#setLast(c, messages[messages.length - 1]);
          }
        }
        if (messages.length < 200)
          break;
      }
      window.to = Math.max(window.to, ...window.messages.keys());
    } finally {
      this.#filling.delete(conv);
    }
    this.#changed('messages', conv);
    this.markReadIfSeen();
  }

  #merge(info) {
    const c = this.#ensureConversation(info.conv);
    c.kind = info.kind ?? c.kind;
    if (info.title !== undefined)
      c.title = info.title;
    if (info.members)
      c.members = info.members;
    c.lastSeq = Math.max(c.lastSeq, info.lastSeq ?? 0);
    if (info.readSeq !== undefined)
      c.readSeq = Math.max(c.readSeq, info.readSeq);
  }

  #ensureConversation(conv) {
    let c = this.convs.get(conv);
    if (!c) {
      c = { conv, kind: conv.startsWith('d:') ? 'direct' : 'group', lastSeq: 0, readSeq: 0 };
      this.convs.set(conv, c);
      // A conversation we did not know (someone else opened it): its title and read mark come from conv.list.
      this.#refreshSoon();
    }
    return c;
  }

  #setLast(c, message) {
    if (!c.last || message.seq >= c.last.seq)
      c.last = message;
  }

  #others(conv) {
    const c = this.convs.get(conv);
    if (conv.startsWith('d:'))
      return [directPeer(conv, this.me)];
    return (c?.members ?? []).map(m => m.user).filter(u => u !== this.me);
  }

  #raise(marks, conv, user, seq) {
    if (!marks.has(conv))
      marks.set(conv, new Map());
    const m = marks.get(conv);
    m.set(user, Math.max(m.get(user) ?? 0, seq));
  }

  #refreshSoon() {
    clearTimeout(this.#refreshTimer);
    this.#refreshTimer = setTimeout(() => this.#loadConversations().catch(() => {}), 300);
  }

  get #outboxKey() { return `im.outbox.${this.me}/${this.#conn.device}`; }

  #loadOutbox() {
    try {
      return (JSON.parse(localStorage.getItem(this.#outboxKey) ?? '[]')).map(o => ({ ...o, state: 'queued' }));
    } catch {
      return [];
    }
  }

  #saveOutbox() {
    const kept = this.outbox.map(({ conv, id, body, ts }) => ({ conv, id, body, ts }));
    localStorage.setItem(this.#outboxKey, JSON.stringify(kept));
  }

  #notice(text) {
    this.dispatchEvent(new CustomEvent('notice', { detail: { text } }));
  }

  #changed(what, conv) {
    this.dispatchEvent(new CustomEvent('change', { detail: { what, conv } }));
  }
}
