// Accounts and tokens over HTTP (docs/protocol.md §11). The access token, never the password, is the MQTT
// password; the password is sent once, to /v1/auth/token, and not kept.

const SESSION_KEY = 'im.session';

export class AuthError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

export const USER_ID = /^[a-z0-9_.-]{1,64}$/;

export async function register(user, password) {
  const response = await fetch('/v1/auth/register', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user, password }),
  });
  if (response.status === 201)
    return;
  const body = await response.json().catch(() => ({}));
  throw new AuthError(body.error ?? `http_${response.status}`, body.message ?? `sign-up failed (HTTP ${response.status})`);
}

/** POST /v1/auth/token with a form body (RFC 6749); returns the tokens and when the access token expires. */
async function requestToken(form) {
  const response = await fetch('/v1/auth/token', { method: 'POST', body: new URLSearchParams(form) });
  const body = await response.json().catch(() => ({}));
  if (!response.ok)
    throw new AuthError(body.error ?? `http_${response.status}`, body.error_description ?? `HTTP ${response.status}`);
  const now = Date.now();
  return {
    access: body.access_token,
    refresh: body.refresh_token,
    issuedAt: now,
    expiresAt: now + body.expires_in * 1000,
  };
}

/** A signed-in user's tokens. Kept in sessionStorage (this tab, survives reloads) and in localStorage (so a new
 * tab signs in as the last user). Two tabs may hold different users: each tab keeps its own. */
export class Session {
  constructor(user, tokens) {
    this.user = user;
    this.tokens = tokens;
  }

  static async signIn(user, password) {
    const session = new Session(user, await requestToken({ grant_type: 'password', username: user, password }));
    session.save();
    return session;
  }

  static restore() {
    for (const storage of [sessionStorage, localStorage]) {
      try {
        const saved = JSON.parse(storage.getItem(SESSION_KEY) ?? 'null');
        if (saved?.user && saved.tokens?.refresh)
          return new Session(saved.user, saved.tokens);
      } catch {
        // A damaged entry is ignored: the user signs in again.
      }
    }
    return null;
  }

  get accessToken() {
    return this.tokens.access;
  }

  /** True once 80 % of the access token's lifetime is gone (48 minutes of the default hour), so that a reconnect
   * never presents an expired token. */
  get needsRefresh() {
    const lifetime = this.tokens.expiresAt - this.tokens.issuedAt;
    return Date.now() > this.tokens.issuedAt + lifetime * 0.8;
  }

  /** The refresh grant. Throws AuthError('invalid_grant') when the refresh token is no longer any good. */
  async refresh() {
    this.tokens = await requestToken({ grant_type: 'refresh_token', refresh_token: this.tokens.refresh });
    this.save();
  }

  save() {
    const text = JSON.stringify({ user: this.user, tokens: this.tokens });
    sessionStorage.setItem(SESSION_KEY, text);
    localStorage.setItem(SESSION_KEY, text);
  }

  clear() {
    sessionStorage.removeItem(SESSION_KEY);
    const shared = JSON.parse(localStorage.getItem(SESSION_KEY) ?? 'null');
    if (shared?.user === this.user)
      localStorage.removeItem(SESSION_KEY);
  }
}

/** This browser's device id for a user: made once and kept, so that after a reload the server replays from
 * where this device left off (docs/protocol.md §9) and the device counts once toward the user's limit. */
export function deviceIdFor(user) {
  const key = `im.device.${user}`;
  let device = localStorage.getItem(key);
  if (!device) {
    const random = crypto.getRandomValues(new Uint8Array(6));
    device = 'web-' + Array.from(random, b => b.toString(16).padStart(2, '0')).join('');
    localStorage.setItem(key, device);
  }
  return device;
}
