extension WebAssets {
    /// `/msab-client.js`: the ES module apps start from (README "Browser client"): a Socket.IO v4
    /// client and a WebRTC handler in mediasoup-client's naming.
    static let clientJS = #"""
        // msab-client.js — a small browser client for msab (served by msab at /msab-client.js).
        //
        // Two parts, no dependencies, one ES module:
        //  1. A Socket.IO v4 client (Engine.IO protocol 4 over WebSocket, falling back to HTTP
        //     long-polling; events, acks, automatic reconnection with backoff): `io(url, options)`.
        //  2. A WebRTC handler over RTCPeerConnection in mediasoup-client's shape and naming: `Device`,
        //     `SendTransport`, `RecvTransport`, `Producer`, `Consumer` (Unified Plan, Opus, one
        //     RTCPeerConnection per transport, the SFU ICE-lite and DTLS passive/active as mediasoup).
        // Plus one helper: `ack(socket, event, data)` resolves an msab ack or rejects with its `error`,
        // whichever ack shape the event uses.
        //
        // MIT-style: copy it into your app and change it.

        // ───────────────────────────── a tiny event emitter ─────────────────────────────

        export class EventEmitter {
          constructor() { this._handlers = new Map(); }
          on(event, fn) {
            if (!this._handlers.has(event)) this._handlers.set(event, []);
            this._handlers.get(event).push(fn);
            return this;
          }
          once(event, fn) {
            const wrapper = (...args) => { this.off(event, wrapper); fn(...args); };
            wrapper.original = fn;
            return this.on(event, wrapper);
          }
          off(event, fn) {
            if (!fn) { this._handlers.delete(event); return this; }
            const list = this._handlers.get(event);
            if (list) this._handlers.set(event, list.filter(h => h !== fn && h.original !== fn));
            return this;
          }
          emit(event, ...args) {
            const list = this._handlers.get(event);
            if (!list || list.length === 0) return false;
            for (const fn of [...list]) {
              try { fn(...args); } catch (e) { console.error(`msab-client: "${event}" handler threw`, e); }
            }
            return true;
          }
          listenerCount(event) { return (this._handlers.get(event) || []).length; }
        }

        // ───────────────────────────── Engine.IO v4 ─────────────────────────────
        // Packet types: 0 open, 1 close, 2 ping, 3 pong, 4 message, 5 upgrade, 6 noop.
        // A polling payload joins text packets with the record separator 0x1e.

        const RS = '\x1e';

        class EngineSocket extends EventEmitter {
          // events: 'open' (handshake), 'message' (string), 'close' (reason)
          constructor(url, { path, transports, query }) {
            super();
            this.url = new URL(url, location.href);
            this.path = path;
            this.transports = transports;
            this.query = query || {};
            this.state = 'closed';
            this.transport = null;
            this.sid = null;
            this._pingTimer = null;
          }

          _endpoint(transport) {
            const u = new URL(this.path, this.url);
            const params = new URLSearchParams({ ...this.query, EIO: '4', transport });
            if (this.sid) params.set('sid', this.sid);
            if (transport === 'websocket') u.protocol = this.url.protocol === 'https:' ? 'wss:' : 'ws:';
            u.search = params.toString();
            return u;
          }

          // Tries each transport in order; the first whose handshake completes wins.
          async open() {
            this.state = 'opening';
            let lastError = null;
            for (const name of this.transports) {
              if (this.state !== 'opening') return;
              try {
                if (name === 'websocket' && typeof WebSocket !== 'undefined') await this._openWebSocket();
                else if (name === 'polling') await this._openPolling();
                else continue;
                return;
              } catch (e) {
                lastError = e;
                this.sid = null;
              }
            }
            this.state = 'closed';
            throw lastError || new Error('no transport');
          }

          _openWebSocket() {
            return new Promise((resolve, reject) => {
              const ws = new WebSocket(this._endpoint('websocket'));
              let opened = false;
              const timer = setTimeout(() => { if (!opened) { ws.close(); reject(new Error('websocket handshake timeout')); } }, 10000);
              ws.onmessage = ev => {
                if (typeof ev.data !== 'string') return; // binary frames are not used by msab's events
                if (!opened) {
                  if (ev.data[0] !== '0') return;
                  opened = true;
                  clearTimeout(timer);
                  this.transport = { name: 'websocket', send: packets => { for (const p of packets) ws.send(p); }, close: () => ws.close() };
                  this._onOpenPacket(ev.data.slice(1));
                  resolve();
                  return;
                }
                this._onPacket(ev.data);
              };
              ws.onerror = () => { if (!opened) { clearTimeout(timer); reject(new Error('websocket error')); } };
              ws.onclose = () => {
                if (!opened) { clearTimeout(timer); reject(new Error('websocket closed')); return; }
                this._onTransportClose('transport close');
              };
            });
          }

          async _openPolling() {
            const first = await this._poll();
            const packets = first.split(RS);
            if (!packets[0] || packets[0][0] !== '0') throw new Error('bad polling handshake');
            const queue = [];
            let sending = false;
            const flush = async () => {
              if (sending || queue.length === 0 || this.state !== 'open') return;
              sending = true;
              const batch = queue.splice(0, queue.length);
              try {
                const r = await fetch(this._endpoint('polling'), { method: 'POST', body: batch.join(RS), headers: { 'Content-Type': 'text/plain;charset=UTF-8' } });
                if (!r.ok) throw new Error(`polling POST ${r.status}`);
              } catch (e) {
                sending = false;
                this._onTransportClose('transport error');
                return;
              }
              sending = false;
              flush();
            };
            this.transport = {
              name: 'polling',
              send: p => { queue.push(...p); flush(); },
              close: () => {}, // the close packet, when ours, was sent by close() already
            };
            this._onOpenPacket(packets[0].slice(1));
            for (const p of packets.slice(1)) this._onPacket(p);
            (async () => {
              while (this.state === 'open' && this.transport && this.transport.name === 'polling') {
                let payload;
                try { payload = await this._poll(); } catch (e) { this._onTransportClose('transport error'); return; }
                for (const p of payload.split(RS)) if (p) this._onPacket(p);
              }
            })();
          }

          async _poll() {
            const u = this._endpoint('polling');
            u.searchParams.set('t', Math.random().toString(36).slice(2));
            const r = await fetch(u, { cache: 'no-store' });
            if (!r.ok) throw new Error(`polling GET ${r.status}`);
            return r.text();
          }

          _onOpenPacket(json) {
            const info = JSON.parse(json);
            this.sid = info.sid;
            this.pingInterval = info.pingInterval || 25000;
            this.pingTimeout = info.pingTimeout || 20000;
            this.maxPayload = info.maxPayload || 1000000;
            this.state = 'open';
            this._armPingTimer();
            this.emit('open');
          }

          // The server pings; no ping within interval + timeout means the connection is dead.
          _armPingTimer() {
            clearTimeout(this._pingTimer);
            this._pingTimer = setTimeout(() => this._onTransportClose('ping timeout'), this.pingInterval + this.pingTimeout);
          }

          _onPacket(p) {
            switch (p[0]) {
              case '2': this._armPingTimer(); this.transport.send(['3' + p.slice(1)]); break;
              case '4': this.emit('message', p.slice(1)); break;
              case '1': this._onTransportClose('transport close'); break;
              default: break; // 3 pong, 6 noop: nothing to do
            }
          }

          send(text) {
            if (this.state !== 'open') return false;
            this.transport.send(['4' + text]);
            return true;
          }

          _onTransportClose(reason) {
            if (this.state === 'closed') return;
            this.state = 'closed';
            clearTimeout(this._pingTimer);
            const t = this.transport;
            this.transport = null;
            this.sid = null;
            if (t) { try { t.close(); } catch (e) { /* already closed */ } }
            this.emit('close', reason);
          }

          close() {
            if (this.state === 'open' && this.transport) { try { this.transport.send(['1']); } catch (e) { /* gone */ } }
            this._onTransportClose('io client disconnect');
            this.state = 'closed';
          }
        }

        // ───────────────────────────── Socket.IO v4 (protocol 5) ─────────────────────────────
        // Packet types: 0 CONNECT, 1 DISCONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR (5/6 binary: unused).

        const RESERVED = new Set(['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener']);

        export class Socket extends EventEmitter {
          constructor(url, options = {}) {
            super();
            this.url = url;
            this.options = {
              path: '/socket.io/',
              transports: ['websocket', 'polling'],
              auth: {},
              reconnection: true,
              reconnectionAttempts: Infinity,
              reconnectionDelay: 500,
              reconnectionDelayMax: 5000,
              randomizationFactor: 0.5,
              ackTimeout: 15000,
              autoConnect: true,
              ...options,
            };
            this.connected = false;
            this.id = undefined;
            this.recovered = false;
            this._engine = null;
            this._nextAckId = 0;
            this._acks = new Map();
            this._attempts = 0;
            this._reconnectTimer = null;
            this._closedByUser = false;
            // Ack-less emits made while disconnected are sent on (re)connect, as socket.io-client does.
            this._sendBuffer = [];
            if (this.options.autoConnect) this.connect();
          }

          get disconnected() { return !this.connected; }

          // Delivers to this page's listeners (emit() sends to the server).
          _local(event, ...args) { return EventEmitter.prototype.emit.call(this, event, ...args); }
          get transportName() { return this._engine && this._engine.transport ? this._engine.transport.name : null; }

          connect() {
            if (this.connected || this._engine) return this;
            this._closedByUser = false;
            const engine = new EngineSocket(this.url, { path: this.options.path, transports: this.options.transports });
            this._engine = engine;
            engine.on('open', () => {
              const auth = typeof this.options.auth === 'function' ? this.options.auth() : this.options.auth;
              engine.send('0' + (auth ? JSON.stringify(auth) : ''));
            });
            engine.on('message', text => this._onPacket(text));
            engine.on('close', reason => this._onEngineClose(engine, reason));
            engine.open().catch(e => {
              if (this._engine !== engine) return;
              this._engine = null;
              const err = new Error(`connection failed: ${e.message}`);
              err.type = 'TransportError';
              this._local('connect_error', err);
              this._scheduleReconnect();
            });
            return this;
          }
          open() { return this.connect(); }

          _onPacket(text) {
            const type = text[0];
            let i = 1;
            // namespace: only "/" is used; skip "/nsp," if present
            if (text[i] === '/') { const comma = text.indexOf(',', i); i = comma < 0 ? text.length : comma + 1; }
            let idText = '';
            while (i < text.length && text[i] >= '0' && text[i] <= '9') idText += text[i++];
            let data;
            try { data = i < text.length ? JSON.parse(text.slice(i)) : undefined; } catch (e) { console.warn('msab-client: bad packet', text); return; }
            switch (type) {
              case '0': {
                this.id = data && data.sid;
                this.connected = true;
                const reconnected = this._attempts > 0;
                this._attempts = 0;
                this._local('connect');
                if (reconnected) this._local('reconnect');
                const buffered = this._sendBuffer.splice(0);
                for (const packet of buffered) this._engine.send(packet);
                break;
              }
              case '4': {
                // Refused by the server's middleware (auth, origin): no automatic retry, as socket.io-client.
                const err = new Error((data && data.message) || 'connect error');
                err.data = data && data.data;
                this._closedByUser = true;
                const engine = this._engine;
                this._engine = null;
                if (engine) engine.close();
                this._local('connect_error', err);
                break;
              }
              case '2': {
                if (!Array.isArray(data) || data.length === 0) return;
                const [event, ...args] = data;
                if (idText) {
                  const id = Number(idText);
                  let sent = false;
                  args.push((...reply) => {
                    if (sent) return;
                    sent = true;
                    this._engine && this._engine.send('3' + id + JSON.stringify(reply));
                  });
                }
                this._local(event, ...args);
                break;
              }
              case '3': {
                const id = Number(idText);
                const pending = this._acks.get(id);
                if (pending) { this._acks.delete(id); clearTimeout(pending.timer); pending.fn(...(Array.isArray(data) ? data : [])); }
                break;
              }
              case '1': {
                this._teardown('io server disconnect');
                break;
              }
              default: break;
            }
          }

          _onEngineClose(engine, reason) {
            if (this._engine !== engine) return;
            this._engine = null;
            this._teardown(reason);
          }

          _teardown(reason) {
            const wasConnected = this.connected;
            this.connected = false;
            this.id = undefined;
            const engine = this._engine;
            this._engine = null;
            if (engine) engine.close();
            for (const [id, pending] of this._acks) {
              clearTimeout(pending.timer);
              pending.fn(new Error(`disconnected (${reason}) before the ack`));
              this._acks.delete(id);
            }
            if (wasConnected) this._local('disconnect', reason);
            // A server-side disconnect is deliberate (socket.io-client does not reconnect either).
            if (reason !== 'io server disconnect' && reason !== 'io client disconnect') this._scheduleReconnect();
          }

          _scheduleReconnect() {
            if (this._closedByUser || !this.options.reconnection || this._reconnectTimer) return;
            if (this._attempts >= this.options.reconnectionAttempts) { this._local('reconnect_failed'); return; }
            this._attempts++;
            const base = Math.min(this.options.reconnectionDelay * 2 ** (this._attempts - 1), this.options.reconnectionDelayMax);
            const jitter = base * this.options.randomizationFactor * (Math.random() * 2 - 1);
            const delay = Math.max(0, Math.round(base + jitter));
            this._local('reconnect_attempt', this._attempts, delay);
            this._reconnectTimer = setTimeout(() => {
              this._reconnectTimer = null;
              if (!this._closedByUser) this.connect();
            }, delay);
          }

          // emit(event, ...args[, ackCallback]) — an ack callback gets the server's reply arguments
          // (or an Error as first argument when the ack times out or the connection drops).
          emit(event, ...args) {
            if (RESERVED.has(event)) return this._local(event, ...args);
            let packet = '2';
            if (typeof args[args.length - 1] === 'function') {
              const fn = args.pop();
              const id = this._nextAckId++;
              const timer = setTimeout(() => {
                if (this._acks.delete(id)) fn(new Error(`ack timeout for "${event}"`));
              }, this.options.ackTimeout);
              this._acks.set(id, { fn, timer });
              packet += id;
              packet += JSON.stringify([event, ...args]);
              if (!this.connected || !this._engine || !this._engine.send(packet)) {
                clearTimeout(timer);
                this._acks.delete(id);
                fn(new Error(`not connected: "${event}" not sent`));
              }
              return this;
            }
            packet += JSON.stringify([event, ...args]);
            if (this.connected && this._engine) this._engine.send(packet);
            else this._sendBuffer.push(packet);
            return this;
          }

          // Resolves with the first ack argument; rejects on timeout / disconnection.
          emitWithAck(event, ...args) {
            return new Promise((resolve, reject) => {
              this.emit(event, ...args, (first, ...rest) => {
                if (first instanceof Error) reject(first);
                else resolve(rest.length ? [first, ...rest] : first);
              });
            });
          }

          disconnect() {
            this._closedByUser = true;
            clearTimeout(this._reconnectTimer);
            this._reconnectTimer = null;
            if (this._engine) {
              if (this.connected) this._engine.send('1');
              const engine = this._engine;
              this._teardown('io client disconnect');
              engine.close();
            }
            return this;
          }
          close() { return this.disconnect(); }
        }

        export function io(url = location.origin, options = {}) {
          if (typeof url === 'object') { options = url; url = location.origin; }
          return new Socket(url, options);
        }

        // msab's acks come in two shapes: `{error}` for room/media events, `{success:false, error}` for
        // seat events. `ack()` resolves the data or rejects an Error whose message is msab's `error`.
        export async function ack(socket, event, data) {
          const reply = await socket.emitWithAck(event, data);
          if (reply && typeof reply === 'object' && (reply.error !== undefined || reply.success === false)) {
            const err = new Error(reply.error || `${event} failed`);
            err.event = event;
            err.reply = reply;
            throw err;
          }
          return reply;
        }

        // ───────────────────────────── SDP helpers ─────────────────────────────

        function parseFmtp(text) {
          const out = {};
          for (const kv of (text || '').split(';')) {
            if (!kv.trim()) continue;
            const i = kv.indexOf('=');
            if (i < 0) { out[kv.trim()] = 1; continue; }
            const k = kv.slice(0, i).trim(), v = kv.slice(i + 1).trim();
            out[k] = /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
          }
          return out;
        }
        function formatFmtp(params) { return Object.entries(params || {}).map(([k, v]) => `${k}=${v}`).join(';'); }

        // What mediasoup-client reads from a local SDP with sdp-transform, for one audio m-section.
        function readMediaSection(sdp, mid) {
          const sessionFp = /^a=fingerprint:(\S+) (\S+)/m.exec(sdp);
          const sections = sdp.split(/\r?\nm=/).slice(1).map(s => 'm=' + s);
          const section = sections.find(s => new RegExp(`^a=mid:${mid.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`, 'm').test(s));
          if (!section) throw new Error(`no m-section with mid ${mid} in the local SDP`);
          const r = { mid, rtpmap: {}, fmtp: {}, rtcpFb: {}, extmap: [], ssrc: null, cname: null, opus: null, setup: null, fingerprint: null };
          const fp = /^a=fingerprint:(\S+) (\S+)/m.exec(section) || sessionFp;
          if (fp) r.fingerprint = { algorithm: fp[1].toLowerCase(), value: fp[2] };
          for (const l of section.split(/\r?\n/)) {
            let m;
            if ((m = /^a=setup:(\S+)/.exec(l))) r.setup = m[1];
            else if ((m = /^a=rtpmap:(\d+) ([^/]+)\/(\d+)(?:\/(\d+))?/.exec(l))) {
              r.rtpmap[m[1]] = { name: m[2], clockRate: Number(m[3]), channels: m[4] ? Number(m[4]) : 1 };
              if (m[2].toLowerCase() === 'opus' && r.opus === null) r.opus = Number(m[1]);
            } else if ((m = /^a=fmtp:(\d+) (.*)/.exec(l))) r.fmtp[m[1]] = parseFmtp(m[2]);
            else if ((m = /^a=rtcp-fb:(\d+) (\S+)(?: (\S+))?/.exec(l))) (r.rtcpFb[m[1]] ||= []).push({ type: m[2], parameter: m[3] || '' });
            else if ((m = /^a=extmap:(\d+)(?:\/\S+)? (\S+)/.exec(l))) r.extmap.push({ id: Number(m[1]), uri: m[2] });
            else if ((m = /^a=ssrc:(\d+) cname:(\S+)/.exec(l))) { if (r.ssrc === null) { r.ssrc = Number(m[1]); r.cname = m[2]; } }
          }
          if (!r.setup) { const s = /^a=setup:(\S+)/m.exec(sdp); if (s) r.setup = s[1]; }
          return r;
        }

        function sameFeedback(a, b) { return a.type === b.type && (a.parameter || '') === (b.parameter || ''); }

        // ───────────────────────────── Device ─────────────────────────────

        export class Device {
          constructor({ handlerName = 'Chrome111' } = {}) {
            this.handlerName = handlerName; // informative; one Unified Plan handler for every browser
            this._loaded = false;
            this._routerRtpCapabilities = null;
            this._recvRtpCapabilities = null;
            this.observer = new EventEmitter(); // 'newtransport' (transport)
          }

          get loaded() { return this._loaded; }
          get rtpCapabilities() {
            if (!this._loaded) throw new Error('Device not loaded');
            return this._recvRtpCapabilities;
          }

          async load({ routerRtpCapabilities }) {
            if (!routerRtpCapabilities || !Array.isArray(routerRtpCapabilities.codecs)) throw new TypeError('missing routerRtpCapabilities');
            if (typeof RTCPeerConnection === 'undefined') throw new Error('this browser has no WebRTC (RTCPeerConnection)');
            const opus = routerRtpCapabilities.codecs.find(c => c.kind === 'audio' && c.mimeType.toLowerCase() === 'audio/opus');
            if (!opus) throw new Error('the router offers no Opus');
            this._routerRtpCapabilities = routerRtpCapabilities;
            // What this device can receive: the router's audio codecs (with its payload types), and the
            // header extensions the router sends (mediasoup-client's getExtendedRtpCapabilities + recv).
            this._recvRtpCapabilities = {
              codecs: routerRtpCapabilities.codecs.filter(c => c.kind === 'audio' && c.mimeType.toLowerCase() === 'audio/opus'),
              headerExtensions: (routerRtpCapabilities.headerExtensions || []).filter(e =>
                e.kind === 'audio' && ['sendrecv', 'sendonly', undefined].includes(e.direction)),
            };
            this._loaded = true;
          }

          canProduce(kind) {
            if (!this._loaded) throw new Error('Device not loaded');
            return kind === 'audio';
          }

          createSendTransport(options) { return this._createTransport('send', options); }
          createRecvTransport(options) { return this._createTransport('recv', options); }

          _createTransport(direction, { id, iceParameters, iceCandidates, dtlsParameters, iceServers, iceTransportPolicy, appData }) {
            if (!this._loaded) throw new Error('Device not loaded');
            const Cls = direction === 'send' ? SendTransport : RecvTransport;
            const t = new Cls({ id, iceParameters, iceCandidates, dtlsParameters, iceServers, iceTransportPolicy, appData,
                                routerRtpCapabilities: this._routerRtpCapabilities });
            this.observer.emit('newtransport', t);
            return t;
          }
        }

        // ───────────────────────────── Transports ─────────────────────────────

        class Transport extends EventEmitter {
          constructor(direction, { id, iceParameters, iceCandidates, dtlsParameters, iceServers, iceTransportPolicy, appData, routerRtpCapabilities }) {
            super();
            if (!id || !iceParameters || !Array.isArray(iceCandidates) || !dtlsParameters) throw new TypeError('missing transport parameters');
            this.id = id;
            this.direction = direction;
            this.appData = appData || {};
            this.closed = false;
            this._remote = { iceParameters, iceCandidates, dtlsParameters };
            this._routerRtpCapabilities = routerRtpCapabilities;
            this._connected = null; // the promise of the 'connect' event, once emitted
            this._queue = Promise.resolve();
            this._sections = []; // {mid, kind, ...} in m-line order
            this.pc = new RTCPeerConnection({
              iceServers: iceServers || [], iceTransportPolicy: iceTransportPolicy || 'all',
              bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require',
            });
            this.connectionState = 'new';
            this.pc.addEventListener('connectionstatechange', () => {
              this.connectionState = this.pc.connectionState;
              this.emit('connectionstatechange', this.pc.connectionState);
            });
            this.observer = new EventEmitter();
          }

          // The RTCPeerConnection under this transport (mediasoup-client keeps it private; stats and
          // test automation want it).
          get peerConnection() { return this.pc; }

          // Runs SDP work one task at a time (offer/answer rounds must not interleave).
          _enqueue(task) {
            const run = this._queue.then(() => { if (this.closed) throw new Error('transport closed'); return task(); });
            this._queue = run.catch(() => {});
            return run;
          }

          // mediasoup-client's 'connect' event: the app sends dtlsParameters to the server and calls
          // callback() (or errback(error)).
          _emitConnect(dtlsParameters) {
            if (this._connected) return this._connected;
            this._connected = new Promise((resolve, reject) => {
              if (this.listenerCount('connect') === 0) { reject(new Error('no "connect" listener on the transport')); return; }
              this.emit('connect', { dtlsParameters }, resolve, reject);
            });
            this._connected.catch(() => { this._connected = null; });
            return this._connected;
          }

          _transportLines(setup) {
            const { iceParameters, iceCandidates, dtlsParameters } = this._remote;
            const fp = dtlsParameters.fingerprints.find(f => f.algorithm === 'sha-256') || dtlsParameters.fingerprints[0];
            const out = [`a=ice-ufrag:${iceParameters.usernameFragment}`, `a=ice-pwd:${iceParameters.password}`,
                         `a=fingerprint:${fp.algorithm} ${fp.value}`, `a=setup:${setup}`];
            for (const c of iceCandidates) {
              let line = `a=candidate:${c.foundation} 1 ${c.protocol} ${c.priority} ${c.address || c.ip} ${c.port} typ ${c.type || 'host'}`;
              if (c.protocol === 'tcp') line += ` tcptype ${c.tcpType || 'passive'}`;
              out.push(line);
            }
            out.push('a=end-of-candidates', 'a=rtcp-mux', 'a=rtcp-rsize');
            return out;
          }

          _sessionLines() {
            this._sdpVersion = (this._sdpVersion || 0) + 1;
            this._sessionId ||= String(Math.floor(Math.random() * 1e15));
            // mediasoup-client's rule: the first m-section is the BUNDLE tag, so when closed it is only
            // made inactive (kept in the group); any other closed one is rejected (port 0, out of it).
            const mids = this._sections.filter((s, i) => i === 0 || !s.closed).map(s => s.mid);
            const lines = ['v=0', `o=msab ${this._sessionId} ${this._sdpVersion} IN IP4 0.0.0.0`, 's=-', 't=0 0', 'a=ice-lite'];
            if (mids.length) lines.push(`a=group:BUNDLE ${mids.join(' ')}`);
            lines.push('a=msid-semantic: WMS *');
            return lines;
          }

          _port(section) { return section.closed && section !== this._sections[0] ? 0 : 7; }

          async restartIce({ iceParameters }) {
            return this._enqueue(async () => {
              this._remote.iceParameters = iceParameters;
              await this._renegotiate(true);
            });
          }

          async getStats() { return this.pc.getStats(); }

          close() {
            if (this.closed) return;
            this.closed = true;
            try { this.pc.close(); } catch (e) { /* already closed */ }
            this.connectionState = 'closed';
            this.emit('connectionstatechange', 'closed');
            this.observer.emit('close');
          }
        }

        export class SendTransport extends Transport {
          constructor(options) { super('send', options); this._producers = new Map(); }

          // produce({track, appData, stopTracks=true, zeroRtpOnPause=false}) → Producer.
          // Emits 'connect' (first time) and 'produce' ({kind, rtpParameters, appData}, callback({id}), errback).
          produce({ track, appData = {}, stopTracks = true, zeroRtpOnPause = false, streams } = {}) {
            if (!track || track.kind !== 'audio') return Promise.reject(new TypeError('produce() needs an audio track'));
            if (track.readyState === 'ended') return Promise.reject(new Error('track ended'));
            if (this.listenerCount('produce') === 0) return Promise.reject(new Error('no "produce" listener on the transport'));
            return this._enqueue(async () => {
              const stream = (streams && streams[0]) || new MediaStream([track]);
              const transceiver = this.pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
              let offer = await this.pc.createOffer();
              await this.pc.setLocalDescription(offer);
              const mid = transceiver.mid;
              const local = readMediaSection(this.pc.localDescription.sdp, mid);
              const caps = this._routerRtpCapabilities;
              const capOpus = caps.codecs.find(c => c.kind === 'audio' && c.mimeType.toLowerCase() === 'audio/opus');
              const pt = local.opus;
              if (pt === null) throw new Error('the browser offered no Opus');
              const codec = {
                mimeType: 'audio/opus', payloadType: pt, clockRate: 48000, channels: 2,
                parameters: local.fmtp[pt] || {},
                rtcpFeedback: (local.rtcpFb[pt] || []).filter(f => (capOpus.rtcpFeedback || []).some(c => sameFeedback(c, f))),
              };
              // The extensions the router receives, with the browser's ids.
              const uris = new Set((caps.headerExtensions || []).filter(e => e.kind === 'audio' && ['sendrecv', 'recvonly', undefined].includes(e.direction)).map(e => e.uri));
              const headerExtensions = local.extmap.filter(e => uris.has(e.uri)).map(e => ({ uri: e.uri, id: e.id, encrypt: false, parameters: {} }));
              const section = { mid, kind: 'audio', codec, headerExtensions, closed: false, transceiver };
              this._sections.push(section);
              // The SFU is ICE-lite and DTLS passive toward a sender: the browser is the DTLS client.
              await this._emitConnect({ role: 'client', fingerprints: [local.fingerprint] });
              await this._setRemoteAnswer();
              const rtpParameters = {
                mid, codecs: [codec], headerExtensions,
                encodings: [{ ssrc: local.ssrc, dtx: false }],
                rtcp: { cname: local.cname, reducedSize: true, mux: true },
              };
              let producerId;
              try {
                producerId = await new Promise((resolve, reject) => {
                  this.emit('produce', { kind: 'audio', rtpParameters, appData }, ({ id }) => resolve(id), reject);
                });
              } catch (e) {
                // Undo the m-section so the transport stays usable.
                section.closed = true;
                try { this.pc.removeTrack(transceiver.sender); } catch (err) { /* closed */ }
                await this._setRemoteAnswer().catch(() => {});
                throw e;
              }
              const producer = new Producer({ id: producerId, transport: this, track, rtpParameters, appData, stopTracks, zeroRtpOnPause, section });
              this._producers.set(producerId, producer);
              return producer;
            });
          }

          async _setRemoteAnswer() {
            if (this.pc.signalingState === 'stable') {
              const offer = await this.pc.createOffer();
              await this.pc.setLocalDescription(offer);
            }
            const lines = this._sessionLines();
            for (const s of this._sections) {
              const pt = s.codec.payloadType;
              lines.push(`m=audio ${this._port(s)} UDP/TLS/RTP/SAVPF ${pt}`, 'c=IN IP4 127.0.0.1', ...this._transportLines('passive'),
                         `a=mid:${s.mid}`, s.closed ? 'a=inactive' : 'a=recvonly', `a=rtpmap:${pt} opus/48000/2`);
              if (Object.keys(s.codec.parameters).length) lines.push(`a=fmtp:${pt} ${formatFmtp(s.codec.parameters)}`);
              for (const f of s.codec.rtcpFeedback) lines.push(`a=rtcp-fb:${pt} ${f.type}${f.parameter ? ' ' + f.parameter : ''}`);
              for (const e of s.headerExtensions) lines.push(`a=extmap:${e.id} ${e.uri}`);
            }
            await this.pc.setRemoteDescription({ type: 'answer', sdp: lines.join('\r\n') + '\r\n' });
          }

          async _renegotiate(iceRestart) {
            const offer = await this.pc.createOffer({ iceRestart: !!iceRestart });
            await this.pc.setLocalDescription(offer);
            await this._setRemoteAnswer();
          }

          _closeProducer(producer) {
            this._producers.delete(producer.id);
            if (this.closed) return;
            this._enqueue(async () => {
              producer._section.closed = true;
              try { this.pc.removeTrack(producer._section.transceiver.sender); } catch (e) { /* closed */ }
              await this._renegotiate(false);
            }).catch(e => console.warn('msab-client: closing the producer m-section failed', e));
          }

          close() {
            for (const p of [...this._producers.values()]) p._transportClosed();
            super.close();
          }
        }

        export class RecvTransport extends Transport {
          constructor(options) { super('recv', options); this._consumers = new Map(); this._nextMid = 0; }

          // consume({id, producerId, kind, rtpParameters, appData}) with what the server's audio:consume
          // answered → Consumer (its track is live once the server resumes the consumer).
          consume({ id, producerId, kind = 'audio', rtpParameters, appData = {} }) {
            if (kind !== 'audio') return Promise.reject(new TypeError('only audio consumers'));
            if (!id || !rtpParameters || !Array.isArray(rtpParameters.codecs) || !rtpParameters.codecs.length) return Promise.reject(new TypeError('missing consumer parameters'));
            return this._enqueue(async () => {
              const mid = rtpParameters.mid !== undefined ? String(rtpParameters.mid) : `r${this._nextMid++}`;
              const section = { mid, kind, rtpParameters, producerId, consumerId: id, closed: false };
              // Recycle a rejected m-section (JSEP §5.2.2; mediasoup-client does the same), so speakers
              // coming and going do not grow the SDP. The first one is the BUNDLE tag and is never rejected.
              const free = this._sections.findIndex((s, i) => i > 0 && s.closed);
              if (free >= 0) this._sections[free] = section; else this._sections.push(section);
              const trackPromise = new Promise(resolve => {
                const onTrack = ev => { if (ev.transceiver && ev.transceiver.mid === mid) { this.pc.removeEventListener('track', onTrack); resolve(ev.track); } };
                this.pc.addEventListener('track', onTrack);
              });
              await this._offerAndAnswer(false);
              const track = await Promise.race([trackPromise, new Promise((_, reject) => setTimeout(() => reject(new Error('no track for the consumer')), 5000))]);
              const transceiver = this.pc.getTransceivers().find(t => t.mid === mid);
              const consumer = new Consumer({ id, producerId, transport: this, track, rtpParameters, appData, section, receiver: transceiver && transceiver.receiver });
              this._consumers.set(id, consumer);
              return consumer;
            });
          }

          async _offerAndAnswer(iceRestart) {
            const lines = this._sessionLines();
            for (const s of this._sections) {
              const rp = s.rtpParameters;
              const codec = rp.codecs[0];
              const pt = codec.payloadType;
              const name = codec.mimeType.split('/')[1];
              lines.push(`m=audio ${this._port(s)} UDP/TLS/RTP/SAVPF ${pt}`, 'c=IN IP4 127.0.0.1', ...this._transportLines('actpass'),
                         `a=mid:${s.mid}`, s.closed ? 'a=inactive' : 'a=sendonly',
                         `a=rtpmap:${pt} ${name}/${codec.clockRate}${codec.channels > 1 ? '/' + codec.channels : ''}`);
              if (Object.keys(codec.parameters || {}).length) lines.push(`a=fmtp:${pt} ${formatFmtp(codec.parameters)}`);
              for (const f of codec.rtcpFeedback || []) lines.push(`a=rtcp-fb:${pt} ${f.type}${f.parameter ? ' ' + f.parameter : ''}`);
              for (const e of rp.headerExtensions || []) lines.push(`a=extmap:${e.id} ${e.uri}`);
              if (!s.closed) {
                const ssrc = rp.encodings[0].ssrc;
                const streamId = `msab-${s.producerId}`, trackId = `consumer-${s.consumerId}`;
                lines.push(`a=msid:${streamId} ${trackId}`, `a=ssrc:${ssrc} cname:${(rp.rtcp && rp.rtcp.cname) || 'msab'}`,
                           `a=ssrc:${ssrc} msid:${streamId} ${trackId}`);
              }
            }
            await this.pc.setRemoteDescription({ type: 'offer', sdp: lines.join('\r\n') + '\r\n' });
            const answer = await this.pc.createAnswer();
            await this.pc.setLocalDescription(answer);
            if (!this._connected) {
              const first = this._sections.find(s => !s.closed) || this._sections[0];
              const local = readMediaSection(this.pc.localDescription.sdp, first.mid);
              // The browser answers a=setup:active (DTLS client), so the SFU is the DTLS server.
              await this._emitConnect({ role: local.setup === 'passive' ? 'server' : 'client', fingerprints: [local.fingerprint] });
            }
            void iceRestart;
          }

          async _renegotiate(iceRestart) { await this._offerAndAnswer(iceRestart); }

          _closeConsumer(consumer) {
            this._consumers.delete(consumer.id);
            if (this.closed) return;
            this._enqueue(async () => {
              consumer._section.closed = true;
              await this._offerAndAnswer(false);
            }).catch(e => console.warn('msab-client: closing the consumer m-section failed', e));
          }

          close() {
            for (const c of [...this._consumers.values()]) c._transportClosed();
            super.close();
          }
        }

        // ───────────────────────────── Producer / Consumer ─────────────────────────────

        export class Producer extends EventEmitter {
          constructor({ id, transport, track, rtpParameters, appData, stopTracks, zeroRtpOnPause, section }) {
            super();
            this.id = id;
            this.kind = 'audio';
            this.track = track;
            this.rtpParameters = rtpParameters;
            this.appData = appData;
            this.closed = false;
            this.paused = !track.enabled;
            this._transport = transport;
            this._stopTracks = stopTracks;
            this._zeroRtpOnPause = zeroRtpOnPause;
            this._section = section;
            this.observer = new EventEmitter();
            this._onEnded = () => this.emit('trackended');
            track.addEventListener('ended', this._onEnded);
          }
          get rtpSender() { return this._section.transceiver.sender; }

          // Local pause: the track is disabled (silence); tell the server too (msab: audio:selfMute).
          pause() {
            if (this.closed) return;
            this.paused = true;
            this.track.enabled = false;
            if (this._zeroRtpOnPause) this.rtpSender.replaceTrack(null).catch(() => {});
            this.observer.emit('pause');
          }
          resume() {
            if (this.closed) return;
            this.paused = false;
            this.track.enabled = true;
            if (this._zeroRtpOnPause) this.rtpSender.replaceTrack(this.track).catch(() => {});
            this.observer.emit('resume');
          }
          async replaceTrack({ track }) {
            await this.rtpSender.replaceTrack(track);
            this.track.removeEventListener('ended', this._onEnded);
            if (this._stopTracks && this.track !== track) this.track.stop();
            this.track = track;
            track.addEventListener('ended', this._onEnded);
            track.enabled = !this.paused;
          }
          async getStats() { return this.rtpSender.getStats(); }
          close() {
            if (this.closed) return;
            this.closed = true;
            this.track.removeEventListener('ended', this._onEnded);
            if (this._stopTracks) this.track.stop();
            this._transport._closeProducer(this);
            this.observer.emit('close');
          }
          _transportClosed() {
            if (this.closed) return;
            this.closed = true;
            if (this._stopTracks) this.track.stop();
            this.emit('transportclose');
            this.observer.emit('close');
          }
        }

        export class Consumer extends EventEmitter {
          constructor({ id, producerId, transport, track, rtpParameters, appData, section, receiver }) {
            super();
            this.id = id;
            this.producerId = producerId;
            this.kind = 'audio';
            this.track = track;
            this.rtpParameters = rtpParameters;
            this.appData = appData;
            this.rtpReceiver = receiver || null;
            this.closed = false;
            this.paused = false;
            this._transport = transport;
            this._section = section;
            this.observer = new EventEmitter();
          }
          // Local pause only (the track is disabled); msab's consumer:pause / consumer:resume are the
          // server side, sent by the app.
          pause() { if (!this.closed) { this.paused = true; this.track.enabled = false; this.observer.emit('pause'); } }
          resume() { if (!this.closed) { this.paused = false; this.track.enabled = true; this.observer.emit('resume'); } }
          async getStats() { return this.rtpReceiver ? this.rtpReceiver.getStats() : new Map(); }
          close() {
            if (this.closed) return;
            this.closed = true;
            this.track.stop();
            this._transport._closeConsumer(this);
            this.observer.emit('close');
          }
          _transportClosed() {
            if (this.closed) return;
            this.closed = true;
            this.track.stop();
            this.emit('transportclose');
            this.observer.emit('close');
          }
        }

        export const version = '1.0.0';
        """#
}
