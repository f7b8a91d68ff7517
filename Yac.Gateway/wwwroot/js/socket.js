// The WebSocket side of the contract: hello, send/ack with retries under the same clientMsgId,
// resume after every (re)connect, heartbeats, the `auth` token swap, and the close codes
// (1012/1013 and drops: reconnect with backoff; 4001: signed out; 4002: refresh, reconnect).

const ackTimeoutMs = 20_000;
const maxBackoffMs = 15_000;
const transientCodes = new Set(['unavailable', 'rate_limited', 'timeout']);

export const CloseCodes = Object.freeze({
  ServerRestarting: 1012,
  TooSlow: 1013,
  SessionRevoked: 4001,
  TokenExpired: 4002,
});

/**
 * Events: `status` ({state: connecting|open|waiting|stopped, retryInMs}), `hello` (the hello
 * frame, after which `resume` and pending sends have gone out), `frame` (every other server
 * frame), `ack` ({clientMsgId, chatId, messageId, seq, sentAt}), `sendfailed` ({clientMsgId,
 * chatId, code, message}), `revoked` (4001).
 */
export class ChatSocket extends EventTarget {
  #api;
  #resumePoints;
  #ws = null;
  #ready = false;
  #stopped = true;
  #attempt = 0;
  #reconnectTimer = 0;
  #heartbeatTimer = 0;
  #lastFrameAt = 0;
  #pending = new Map();

  /**
   * @param resumePoints a function returning {chats: {chatId: lastSeenSeq}, revs: {chatId: lastSeenRev}}:
   * by rev where the page knows the chat's rev (edits, deletes and reactions are replayed too), by seq otherwise
   */
  constructor(api, resumePoints) {
    super();
    this.#api = api;
    this.#resumePoints = resumePoints;
    api.addEventListener('tokens', (event) => this.#sendFrame({ type: 'auth', accessToken: event.detail.accessToken }));
  }

  get connected() { return this.#ready; }

  start() {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#attempt = 0;
    this.#connect();
  }

  stop() {
    this.#stopped = true;
    clearTimeout(this.#reconnectTimer);
    this.#stopHeartbeat();
    this.#ready = false;
    const ws = this.#ws;
    this.#ws = null;
    ws?.close(1000, 'signed out');
    for (const pending of this.#pending.values()) clearTimeout(pending.timer);
    this.#pending.clear();
    this.#status('stopped');
  }

  /** Sends a message; it stays pending (and is re-sent after reconnects) until its ack. */
  send(chatId, clientMsgId, text, replyToSeq = null) {
    this.#pending.set(clientMsgId, { chatId, clientMsgId, text, replyToSeq, failed: false, attempts: 0, timer: 0 });
    this.#transmit(clientMsgId);
  }

  /** Sends a failed message again, with the same clientMsgId so it cannot be stored twice. */
  retry(clientMsgId) {
    const pending = this.#pending.get(clientMsgId);
    if (!pending) return false;
    pending.failed = false;
    pending.attempts = 0;
    this.#transmit(clientMsgId);
    return true;
  }

  /** Gives up a failed message for good. */
  discard(clientMsgId) {
    clearTimeout(this.#pending.get(clientMsgId)?.timer);
    this.#pending.delete(clientMsgId);
  }

  typing(chatId) { return this.#sendFrame({ type: 'typing', chatId }); }
  read(chatId, seq) { return this.#sendFrame({ type: 'read', chatId, seq }); }

  // --- Connection -----------------------------------------------------------------------------

  async #connect() {
    if (this.#stopped) return;
    this.#status('connecting');
    let token;
    try {
      token = await this.#api.accessToken();
    } catch (error) {
      if (error?.status === 401) return; // the Api has ended the session and said so
      this.#scheduleReconnect();
      return;
    }
    if (this.#stopped) return;

    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/ws?access_token=${encodeURIComponent(token)}`);
    this.#ws = ws;
    let opened = false;
    ws.addEventListener('open', () => { opened = true; });
    ws.addEventListener('message', (event) => { if (this.#ws === ws) this.#onFrame(event.data); });
    ws.addEventListener('close', (event) => { if (this.#ws === ws) this.#onClose(event, opened); });
  }

  #onClose(event, opened) {
    this.#ws = null;
    this.#ready = false;
    this.#stopHeartbeat();
    for (const pending of this.#pending.values()) clearTimeout(pending.timer);
    if (this.#stopped) return;

    switch (event.code) {
      case CloseCodes.SessionRevoked:
        this.stop();
        this.dispatchEvent(new CustomEvent('revoked'));
        return;
      case CloseCodes.TokenExpired:
        this.#api.refresh().then(() => this.#connect(), (error) => { if (error?.status !== 401) this.#scheduleReconnect(); });
        return;
      case CloseCodes.ServerRestarting:
        // Another replica is up: come back quickly, but not all clients at the same instant.
        this.#scheduleReconnect(100 + Math.random() * 900);
        return;
      default:
        // Refused before the upgrade (401) looks like any drop to a browser: a REST probe tells,
        // refreshing or ending the session as needed.
        if (!opened) this.#api.me().catch(() => {});
        this.#scheduleReconnect();
    }
  }

  #scheduleReconnect(delayMs) {
    if (this.#stopped) return;
    const backoff = Math.min(500 * 2 ** this.#attempt, maxBackoffMs);
    const delay = delayMs ?? backoff / 2 + Math.random() * backoff / 2;
    this.#attempt++;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(() => this.#connect(), delay);
    this.#status('waiting', delay);
  }

  #onFrame(data) {
    this.#lastFrameAt = Date.now();
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    switch (frame.type) {
      case 'hello':
        this.#onHello(frame);
        break;
      case 'ack':
        this.#onAck(frame);
        break;
      case 'error':
        if (frame.ref && this.#pending.has(frame.ref)) this.#onSendError(frame);
        else this.dispatchEvent(new CustomEvent('frame', { detail: frame }));
        break;
      case 'pong':
      case 'authOk':
        break;
      default:
        this.dispatchEvent(new CustomEvent('frame', { detail: frame }));
    }
  }

  #onHello(frame) {
    this.#ready = true;
    this.#attempt = 0;
    this.#startHeartbeat(frame.heartbeatSeconds);
    const { chats, revs } = this.#resumePoints();
    if (Object.keys(chats).length || Object.keys(revs).length) this.#sendFrame({ type: 'resume', chats, revs });
    for (const [clientMsgId, pending] of this.#pending) {
      if (!pending.failed || transientCodes.has(pending.code)) {
        pending.failed = false;
        this.#transmit(clientMsgId);
      }
    }
    this.#status('open');
    this.dispatchEvent(new CustomEvent('hello', { detail: frame }));
  }

  #onAck(frame) {
    const pending = this.#pending.get(frame.clientMsgId);
    if (pending) clearTimeout(pending.timer);
    this.#pending.delete(frame.clientMsgId);
    this.dispatchEvent(new CustomEvent('ack', { detail: frame }));
  }

  #onSendError(frame) {
    const pending = this.#pending.get(frame.ref);
    clearTimeout(pending.timer);
    pending.code = frame.code;
    if (transientCodes.has(frame.code) && pending.attempts < 4) {
      // Not accepted, nothing stored: try again shortly with the same clientMsgId.
      pending.timer = setTimeout(() => this.#transmit(frame.ref), 500 * 2 ** pending.attempts);
      return;
    }
    this.#fail(pending, frame.code, frame.message);
  }

  #transmit(clientMsgId) {
    const pending = this.#pending.get(clientMsgId);
    if (!pending || pending.failed) return;
    clearTimeout(pending.timer);
    // While disconnected the message simply waits: the next hello sends it.
    const reply = pending.replyToSeq ? { replyToSeq: pending.replyToSeq } : {};
    if (!this.#sendFrame({ type: 'send', chatId: pending.chatId, clientMsgId, text: pending.text, ...reply })) return;
    pending.attempts++;
    pending.timer = setTimeout(() => this.#fail(pending, 'timeout', 'No answer from the server'), ackTimeoutMs);
  }

  #fail(pending, code, message) {
    pending.failed = true;
    pending.code = code;
    this.dispatchEvent(new CustomEvent('sendfailed', { detail: { clientMsgId: pending.clientMsgId, chatId: pending.chatId, code, message } }));
  }

  #sendFrame(frame) {
    if (!this.#ready || this.#ws?.readyState !== WebSocket.OPEN) return false;
    this.#ws.send(JSON.stringify(frame));
    return true;
  }

  // --- Heartbeat ------------------------------------------------------------------------------

  #startHeartbeat(seconds) {
    this.#stopHeartbeat();
    const intervalMs = Math.max(Number(seconds) || 30, 5) * 1000;
    this.#lastFrameAt = Date.now();
    this.#heartbeatTimer = setInterval(() => {
      // A socket that heard nothing for more than two beats is dead even if the OS has not noticed.
      if (Date.now() - this.#lastFrameAt > intervalMs * 2.5) {
        const ws = this.#ws;
        if (!ws) return;
        ws.close(4000, 'heartbeat timeout');
        // Closing a dead socket can take minutes to report; do not wait for it.
        this.#onClose({ code: 1006 }, true);
        return;
      }
      this.#sendFrame({ type: 'ping', id: String(Date.now()) });
    }, intervalMs);
  }

  #stopHeartbeat() {
    clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = 0;
  }

  #status(state, retryInMs = 0) {
    this.dispatchEvent(new CustomEvent('status', { detail: { state, retryInMs } }));
  }
}
