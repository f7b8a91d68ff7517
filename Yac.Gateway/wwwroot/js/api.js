// REST client for YAC's public contract (api-v1): tokens in sessionStorage, refreshed before they
// expire, one refresh at a time (a refresh token works once: two racing refreshes would look like
// reuse and revoke the session), and a 401 answered by one refresh and one retry.

const sessionKey = 'yac.session';

/** An RFC 9457 problem returned by the API (or a network failure, status 0). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || (status ? `Request failed (${status})` : 'Network error'));
    this.status = status;
    this.problem = problem ?? null;
  }

  /** Validation messages (`errors` of a 400), flattened to one line each. */
  get fieldErrors() {
    const errors = this.problem?.errors ?? {};
    return Object.entries(errors).flatMap(([field, messages]) => (Array.isArray(messages) ? messages : [messages]).map((m) => `${field}: ${m}`));
  }

  get userMessage() {
    const fields = this.fieldErrors;
    return fields.length ? fields.join(' ') : this.message;
  }
}

export class Api extends EventTarget {
  #session = null;
  #refreshing = null;
  #refreshTimer = 0;

  constructor() {
    super();
    try {
      this.#session = JSON.parse(sessionStorage.getItem(sessionKey) ?? 'null');
    } catch {
      this.#session = null;
    }
    if (this.#session) this.#scheduleRefresh();
  }

  get signedIn() { return this.#session !== null; }
  get userId() { return this.#session?.userId ?? null; }
  get deviceId() { return this.#session?.deviceId ?? null; }

  /** A usable access token, refreshed first when it is about to expire. */
  async accessToken() {
    if (!this.#session) throw new ApiError(401, { title: 'Signed out' });
    if (Date.now() > this.#session.expiresAt - 15_000) await this.refresh();
    return this.#session.accessToken;
  }

  // --- Identity -------------------------------------------------------------------------------

  register(username, password, displayName) {
    return this.#send('POST', '/api/users', { username, password, displayName: displayName || undefined }, { auth: false });
  }

  async signIn(username, password) {
    const tokens = await this.#send('POST', '/api/tokens', { username, password, deviceName: deviceName() }, { auth: false });
    this.#store(tokens);
    return tokens;
  }

  async signOut() {
    try {
      if (this.#session) await this.#send('POST', '/api/logout', undefined, { retryOn401: false });
    } catch {
      // Signing out locally must work even when the server cannot be reached.
    } finally {
      this.forget();
    }
  }

  me() { return this.#send('GET', '/api/users/me'); }
  user(id) { return this.#send('GET', `/api/users/${encodeURIComponent(id)}`); }
  findUsers(username) { return this.#send('GET', `/api/users?username=${encodeURIComponent(username)}`); }

  // --- Chats ----------------------------------------------------------------------------------

  chats() { return this.#send('GET', '/api/chats'); }
  chat(chatId) { return this.#send('GET', `/api/chats/${encodeURIComponent(chatId)}`); }
  createChat(request) { return this.#send('POST', '/api/chats', request); }
  addMember(chatId, userId) { return this.#send('PUT', `/api/chats/${encodeURIComponent(chatId)}/members/${encodeURIComponent(userId)}`); }
  removeMember(chatId, userId) { return this.#send('DELETE', `/api/chats/${encodeURIComponent(chatId)}/members/${encodeURIComponent(userId)}`); }
  /** keepalive: a read position sent just before the page goes away still arrives. */
  markRead(chatId, seq) { return this.#send('POST', `/api/chats/${encodeURIComponent(chatId)}/read`, { seq }, { keepalive: true }); }
  sendMessage(chatId, clientMsgId, text, replyToSeq = null) {
    return this.#send('POST', `/api/chats/${encodeURIComponent(chatId)}/messages`, { clientMsgId, text, ...(replyToSeq ? { replyToSeq } : {}) });
  }

  editMessage(chatId, seq, text) { return this.#send('PATCH', `${messagePath(chatId, seq)}`, { text }); }
  deleteMessage(chatId, seq) { return this.#send('DELETE', messagePath(chatId, seq)); }
  react(chatId, seq, emoji) { return this.#send('PUT', `${messagePath(chatId, seq)}/reactions/${encodeURIComponent(emoji)}`); }
  unreact(chatId, seq, emoji) { return this.#send('DELETE', `${messagePath(chatId, seq)}/reactions/${encodeURIComponent(emoji)}`); }

  search(q, { chatId, limit } = {}) {
    const query = new URLSearchParams({ q });
    if (chatId) query.set('chatId', chatId);
    if (limit) query.set('limit', limit);
    return this.#send('GET', `/api/search?${query}`);
  }

  messages(chatId, { beforeSeq, afterSeq, limit } = {}) {
    const query = new URLSearchParams();
    if (beforeSeq !== undefined) query.set('beforeSeq', beforeSeq);
    if (afterSeq !== undefined) query.set('afterSeq', afterSeq);
    if (limit !== undefined) query.set('limit', limit);
    const suffix = query.size ? `?${query}` : '';
    return this.#send('GET', `/api/chats/${encodeURIComponent(chatId)}/messages${suffix}`);
  }

  // --- Tokens ---------------------------------------------------------------------------------

  /** Exchanges the refresh token for new tokens; concurrent callers share one request. */
  refresh() {
    this.#refreshing ??= this.#refreshOnce().finally(() => { this.#refreshing = null; });
    return this.#refreshing;
  }

  async #refreshOnce() {
    const refreshToken = this.#session?.refreshToken;
    if (!refreshToken) throw new ApiError(401, { title: 'Signed out' });
    try {
      const tokens = await this.#send('POST', '/api/tokens/refresh', { refreshToken }, { auth: false });
      this.#store(tokens);
    } catch (error) {
      // 401: the session is over (expired, revoked or reused). Anything else: try again later.
      if (error instanceof ApiError && error.status === 401) this.forget();
      else this.#scheduleRetry();
      throw error;
    }
  }

  #store(tokens) {
    this.#session = {
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiresAt: Date.now() + tokens.expiresIn * 1000,
      lifetimeMs: tokens.expiresIn * 1000,
      userId: tokens.userId,
      deviceId: tokens.deviceId,
    };
    sessionStorage.setItem(sessionKey, JSON.stringify(this.#session));
    this.#scheduleRefresh();
    this.dispatchEvent(new CustomEvent('tokens', { detail: { accessToken: tokens.accessToken } }));
  }

  /** Refreshes at about 80% of the token's life, so the socket's `auth` frame always beats expiry. */
  #scheduleRefresh() {
    clearTimeout(this.#refreshTimer);
    const { expiresAt, lifetimeMs } = this.#session;
    const margin = Math.min(Math.max(lifetimeMs * 0.2, 10_000), 120_000);
    const delay = Math.max(expiresAt - margin - Date.now(), 0);
    this.#refreshTimer = setTimeout(() => this.refresh().catch(() => {}), delay);
  }

  #scheduleRetry() {
    clearTimeout(this.#refreshTimer);
    this.#refreshTimer = setTimeout(() => this.refresh().catch(() => {}), 10_000);
  }

  /** Ends the session locally (after logout, or when the server says it is revoked). */
  forget() {
    clearTimeout(this.#refreshTimer);
    const wasSignedIn = this.#session !== null;
    this.#session = null;
    sessionStorage.removeItem(sessionKey);
    if (wasSignedIn) this.dispatchEvent(new CustomEvent('signedout'));
  }

  async #send(method, path, body, { auth = true, retryOn401 = true, keepalive = false } = {}) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (auth) headers.Authorization = `Bearer ${await this.accessToken()}`;

    let response;
    try {
      response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store', keepalive });
    } catch {
      throw new ApiError(0, null);
    }

    if (response.status === 401 && auth && retryOn401) {
      // The token may have been refused just before its time (clock skew, a revoked device):
      // one refresh tells which. If that fails too, the session is over.
      await this.refresh();
      return this.#send(method, path, body, { auth, retryOn401: false, keepalive });
    }
    if (response.status === 401 && auth) this.forget();

    const isJson = (response.headers.get('Content-Type') ?? '').includes('json');
    const payload = response.status === 204 || !isJson ? null : await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, payload);
    return payload;
  }
}

function messagePath(chatId, seq) {
  return `/api/chats/${encodeURIComponent(chatId)}/messages/${encodeURIComponent(seq)}`;
}

function deviceName() {
  const agent = navigator.userAgent;
  const browser = /Firefox\//.test(agent) ? 'Firefox' : /Edg\//.test(agent) ? 'Edge' : /Chrom(e|ium)\//.test(agent) ? 'Chrome' : /Safari\//.test(agent) ? 'Safari' : 'Browser';
  const platform = /Android/.test(agent) ? 'Android' : /iPhone|iPad/.test(agent) ? 'iOS' : /Mac OS/.test(agent) ? 'macOS' : /Windows/.test(agent) ? 'Windows' : /Linux/.test(agent) ? 'Linux' : '';
  return `Web, ${browser}${platform ? ` on ${platform}` : ''}`;
}
