// One MQTT 5 connection over WebSocket to the gateway (docs/protocol.md §2–§6): connect with the access token,
// reconnect with backoff, RPCs matched by rid, sends that resolve with their seq from the PUBACK.
// Events (EventTarget): status {state, reason?}, connected, message, event, presence, fatal {code, message}.

const MAX_BACKOFF_MS = 30_000;

/** A refused publish: code is the MQTT 5 reason code (0 when the connection closed first). */
export class PublishError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }

  /** Worth sending again with the same id: rate limited / quota (0x97), unavailable (0x80), or no answer at all. */
  get retryable() {
    return this.code === 0 || this.code === 0x97 || this.code === 0x80;
  }
}

export class RpcError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

export class Connection extends EventTarget {
  #session;
  #device;
  #client = null;
  #backoff = 1000;
  #rpcs = new Map();
  #nextRid = 0;
  #sends = new Map();        // MQTT packet id → client message id, for the PUBACK's seq
  #acks = new Map();         // client message id → {seq, ts} from a successful PUBACK
  #refreshing = null;
  #timer = 0;
  #stopped = false;

  constructor(session, device) {
    super();
    this.#session = session;
    this.#device = device;
  }

  get user() { return this.#session.user; }
  get device() { return this.#device; }
  get connected() { return this.#client?.connected === true; }

  start() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const client = mqtt.connect(`${scheme}://${location.host}/mqtt`, {
      protocolVersion: 5,
      clientId: `${this.user}/${this.#device}`,
      username: this.user,
      password: this.#session.accessToken,
      // Delivery never relies on the MQTT session: the server replays from this device's cursor (§9).
      clean: true,
      keepalive: 30,
      connectTimeout: 10_000,
      reconnectPeriod: this.#backoff,
      // Keep retrying after a refused CONNACK too (server busy, an expired token being refreshed).
      reconnectOnConnackError: true,
      // Worker timers would need a blob: worker, which the page's Content-Security-Policy does not allow.
      timerVariant: 'native',
      resubscribe: false,
    });
    this.#client = client;
    client.on('connect', () => this.#onConnect());
    client.on('reconnect', () => this.#onReconnect());
    client.on('close', () => this.#emit('status', { state: this.#stopped ? 'stopped' : 'offline' }));
    client.on('disconnect', packet => this.#onServerDisconnect(packet));
    client.on('error', error => this.#onError(error));
    client.on('message', (topic, payload) => this.#onMessage(topic, payload));
    client.on('packetsend', packet => this.#onPacketSend(packet));
    client.on('packetreceive', packet => this.#onPacketReceive(packet));
    // Refresh the access token well before it expires, so that a reconnect never presents an expired one.
    this.#timer = setInterval(() => { if (this.#session.needsRefresh) this.#refreshToken(); }, 5_000);
    this.#emit('status', { state: 'connecting' });
  }

  /** Ends the connection for good (log out, session taken over). */
  stop() {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#client?.end(true);
    for (const { reject, timer } of this.#rpcs.values()) {
      clearTimeout(timer);
      reject(new RpcError('stopped', 'the connection was closed'));
    }
    this.#rpcs.clear();
  }

  /** Calls an RPC method (§6) and resolves with its result, or rejects with RpcError(code). */
  rpc(method, args = {}, timeoutMs = 20_000) {
    const rid = `${Date.now().toString(36)}-${++this.#nextRid}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#rpcs.delete(rid);
        reject(new RpcError('timeout', `${method}: no reply within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.#rpcs.set(rid, { resolve, reject, timer });
      this.#client.publish(`rpc/${method}`, JSON.stringify({ ...args, rid }), { qos: 1 }, (error, packet) => {
        if (error?.code)
          this.#settleRpc(rid, { ok: false, error: { code: 'refused', message: packet?.properties?.reasonString ?? error.message } });
      });
    });
  }

  /** Sends a message (§4 c/{conv}/m). Resolves with {seq, ts} once it is durable, or rejects with PublishError.
   * While offline the publish waits in MQTT.js's store and goes out on reconnect; a retry uses the same id, so
   * the server stores it once (§8). */
  send(conv, id, body) {
    return new Promise((resolve, reject) => {
      this.#client.publish(`c/${conv}/m`, JSON.stringify({ id, body }), { qos: 1 }, (error, packet) => {
        const ack = this.#acks.get(id);
        this.#acks.delete(id);
        if (!error && ack)
          resolve(ack);
        else if (!error)
          reject(new PublishError(0, 'acknowledged without a seq'));
        else
          reject(new PublishError(error.code ?? 0, packet?.properties?.reasonString ?? error.message));
      });
    });
  }

  markRead(conv, seq) {
    this.#client.publish(`c/${conv}/r`, JSON.stringify({ seq }), { qos: 1 });
  }

  /** Typing is not stored: QoS 0, and dropped (not queued) while offline. */
  typing(conv) {
    if (this.connected)
      this.#client.publish(`c/${conv}/t`, '{}', { qos: 0 });
  }

  setPresence(status, text) {
    this.#client.publish('p', JSON.stringify(text ? { status, text } : { status }), { qos: 1 });
  }

  #onConnect() {
    this.#backoff = 1000;
    this.#client.options.reconnectPeriod = this.#backoff;
    // Deliveries do not wait for it, but the subscription is the contract (§3).
    this.#client.subscribe(`u/${this.user}/#`, { qos: 1 });
    this.#emit('status', { state: 'online' });
    this.#emit('connected', {});
  }

  /** MQTT.js is about to connect again: back off (doubling, with jitter) and present the current token. */
  #onReconnect() {
    this.#client.options.password = this.#session.accessToken;
    this.#backoff = Math.min(this.#backoff * 2, MAX_BACKOFF_MS);
    this.#client.options.reconnectPeriod = Math.round(this.#backoff * (0.75 + Math.random() / 2));
    this.#emit('status', { state: 'connecting' });
  }

  #onServerDisconnect(packet) {
    const code = packet.reasonCode ?? 0;
    const reason = packet.properties?.reasonString;
    if (code === 0x8e)
      this.#fatal('taken_over', 'This account is open on this device in another tab or window.');
    else if (code === 0x87)
      this.#fatal('not_authorized', reason ?? 'The server ended this session (device removed or account disabled).');
    // Anything else (0x9C on shutdown, 0x89 busy, 0x97 too slow): reconnect with backoff and catch up.
  }

  #onError(error) {
    switch (error.code) {
      case 0x86:
        // Bad user name, password or token: the access token expired (say, the laptop slept). Refresh it; the
        // next reconnect presents the new one. A refresh token that is no longer valid ends the session.
        this.#refreshToken();
        break;
      case 0x85:
        this.#fatal('client_id', 'The server refused this client id.');
        break;
      case 0x97:
        this.#fatal('quota', `${error.message}: this user has too many devices; remove one (device.remove).`);
        break;
      default:
        // Network errors, server busy or unavailable: MQTT.js reconnects.
        break;
    }
  }

  async #refreshToken() {
    this.#refreshing ??= this.#session.refresh()
      .then(() => { if (this.#client) this.#client.options.password = this.#session.accessToken; })
      .catch(error => {
        if (error.code === 'invalid_grant')
          this.#fatal('signed_out', 'Your sign-in expired. Please sign in again.');
        // Otherwise (server down): try again on the next tick or refusal.
      })
      .finally(() => { this.#refreshing = null; });
    return this.#refreshing;
  }

  #fatal(code, message) {
    if (this.#stopped)
      return;
    this.stop();
    this.#emit('fatal', { code, message });
  }

  #onPacketSend(packet) {
    if (packet.cmd === 'publish' && packet.qos === 1 && /^c\/.+\/m$/.test(packet.topic)) {
      try {
        this.#sends.set(packet.messageId, JSON.parse(packet.payload.toString()).id);
      } catch {
        // Not ours to parse; no seq to record.
      }
    }
  }

  /** MQTT.js hands a publish's callback the stored publish, not the PUBACK: take the seq from the PUBACK here. */
  #onPacketReceive(packet) {
    if (packet.cmd !== 'puback' || !this.#sends.has(packet.messageId))
      return;
    const id = this.#sends.get(packet.messageId);
    this.#sends.delete(packet.messageId);
    const props = packet.properties?.userProperties;
    if (!packet.reasonCode && props?.seq)
      this.#acks.set(id, { seq: Number(props.seq), ts: Number(props.ts) });
  }

  #onMessage(topic, payload) {
    let body;
    try {
      body = JSON.parse(new TextDecoder().decode(payload));
    } catch {
      return;
    }
    const kind = topic.slice(`u/${this.user}/`.length);
    switch (kind) {
      case 'm': this.#emit('message', body); break;
      case 'p': this.#emit('presence', body); break;
      case 'r': this.#settleRpc(body.rid, body); break;
      case 'e':
        // An error about an RPC is answered by its reply too; the reply settles it.
        if (body.type === 'error' && this.#rpcs.has(body.ref))
          break;
        this.#emit('event', body);
        break;
    }
  }

  #settleRpc(rid, reply) {
    const pending = this.#rpcs.get(rid);
    if (!pending)
      return;
    this.#rpcs.delete(rid);
    clearTimeout(pending.timer);
    if (reply.ok)
      pending.resolve(reply.result ?? {});
    else
      pending.reject(new RpcError(reply.error?.code ?? 'internal', reply.error?.message ?? 'failed'));
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
