extension WebAssets {
    /// `/demo.js`: the demo page's code, built only on `/msab-client.js`.
    static let demoJS = #"""
        // The msab demo room: plain DOM code on top of /msab-client.js (nothing else).
        import { io, ack, Device } from '/msab-client.js';

        const SEAT_COUNT = 15;
        const GIFTS = { 1: { emoji: '🌹', name: 'Rose' }, 2: { emoji: '❤️', name: 'Heart' }, 3: { emoji: '🚀', name: 'Rocket' }, 4: { emoji: '👑', name: 'Crown' } };
        const MAX_CHAT_LINES = 200;
        const MAX_ERRORS = 5;

        const $ = id => document.getElementById(id);
        const params = new URLSearchParams(location.search);
        const roomId = params.get('room') || 'demo';
        const token = params.get('token') || '';

        // Test and automation hook (issue 15): the page's live RTCPeerConnections.
        window.msabPeerConnections = [];

        const state = {
          me: null,                 // {id, name, role} from the token's claims (stand-alone JWT), when readable
          joined: false,
          generation: 0,            // bumped on every (re)join: late answers of an older join are dropped
          seats: Array.from({ length: SEAT_COUNT }, (_, index) => ({ index, user: null, muted: false, locked: false, pendingFor: null })),
          people: new Map(),        // userId → public profile (everyone in the room, me included)
          speaking: new Set(),
          speakingTimer: null,
          device: null,
          sendTransport: null,
          recvTransport: null,      // a promise
          producer: null,
          micWanted: false,         // the user turned the microphone on (kept across reconnects)
          selfMuted: false,
          moderatorMuted: false,
          consumers: new Map(),     // producerId → {userId, consumer, audio}
          audioBlocked: false,
          invite: null,             // the invite received {seatIndex, expiresAt, timer}
          speakerEvents: 0,         // speaker:active events seen, and renders that drew a speaking ring
          ringsDrawn: 0,
        };
        window.msabDemo = { state };

        // ───────────────────────── small helpers ─────────────────────────

        function decodeClaims(t) {
          const parts = t.split('.');
          if (parts.length !== 3) return null;
          try {
            const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
            const bytes = Uint8Array.from(atob(b64 + '='.repeat((4 - b64.length % 4) % 4)), c => c.charCodeAt(0));
            return JSON.parse(new TextDecoder().decode(bytes));
          } catch (e) { return null; }
        }

        function nameOf(userId) {
          if (state.me && userId === state.me.id) return state.me.name;
          const p = state.people.get(userId);
          return (p && p.name) || `User ${userId}`;
        }
        function isManager() { return !!state.me && (state.me.role === 'owner' || state.me.role === 'admin'); }
        function mySeat() { return state.me ? state.seats.find(s => s.user && s.user.id === state.me.id) : undefined; }
        function seatOf(userId) { return state.seats.find(s => s.user && s.user.id === userId); }
        function hue(id) { return (Number(id) * 67) % 360; }

        function showError(message) {
          console.warn('msab demo:', message);
          const box = $('errors');
          const div = document.createElement('div');
          div.className = 'error';
          const text = document.createElement('span');
          text.textContent = message;
          const close = document.createElement('button');
          close.type = 'button';
          close.textContent = '✕';
          close.setAttribute('aria-label', 'Dismiss error');
          close.onclick = () => div.remove();
          div.append(text, close);
          box.append(div);
          while (box.children.length > MAX_ERRORS) box.firstChild.remove();
          setTimeout(() => div.remove(), 15000);
        }

        // Runs an action and shows its failure (never swallowed).
        function attempt(what, fn) {
          return Promise.resolve().then(fn).catch(e => showError(`${what}: ${e && e.message ? e.message : e}`));
        }

        function setConnection(text, cls) {
          const el = $('conn');
          el.textContent = text;
          el.className = 'conn ' + (cls || '');
        }

        function logLine(kind, who, text) {
          const log = $('chat-log');
          const li = document.createElement('li');
          li.className = kind;
          if (who) {
            const w = document.createElement('span');
            w.className = 'who';
            w.textContent = who;
            li.append(w);
          }
          li.append(document.createTextNode(text));
          log.append(li);
          while (log.children.length > MAX_CHAT_LINES) log.firstChild.remove();
          log.scrollTop = log.scrollHeight;
        }

        // ───────────────────────── rendering ─────────────────────────

        const seatButtons = [];

        function buildSeats() {
          const ol = $('seats');
          for (let i = 0; i < SEAT_COUNT; i++) {
            const li = document.createElement('li');
            const b = document.createElement('button');
            b.type = 'button';
            b.className = 'seat empty';
            b.dataset.testid = `seat-${i}`;
            b.dataset.seat = String(i);
            b.innerHTML = '<span class="index"></span><span class="badges"></span><span class="avatar"></span><span class="name"></span>';
            b.querySelector('.index').textContent = String(i + 1);
            b.addEventListener('click', () => onSeatClick(i));
            li.append(b);
            ol.append(li);
            seatButtons.push(b);
          }
        }

        function renderSeats() {
          for (const seat of state.seats) {
            const b = seatButtons[seat.index];
            const user = seat.user;
            const me = !!(user && state.me && user.id === state.me.id);
            const speaking = !!(user && state.speaking.has(user.id) && !seat.muted);
            b.classList.toggle('occupied', !!user);
            b.classList.toggle('empty', !user);
            b.classList.toggle('me', me);
            b.classList.toggle('locked', seat.locked);
            b.classList.toggle('pending', seat.pendingFor !== null);
            b.classList.toggle('speaking', speaking);
            if (speaking) state.ringsDrawn++;
            b.dataset.userId = user ? String(user.id) : '';
            b.dataset.speaking = speaking ? 'true' : 'false';
            b.dataset.muted = seat.muted ? 'true' : 'false';
            b.dataset.locked = seat.locked ? 'true' : 'false';
            const avatar = b.querySelector('.avatar');
            avatar.textContent = '';
            if (user) {
              b.style.setProperty('--hue', hue(user.id));
              const profile = { ...(state.people.get(user.id) || {}), ...user };
              if (typeof profile.avatar === 'string' && /^https?:\/\//.test(profile.avatar)) {
                const img = document.createElement('img');
                img.src = profile.avatar;
                img.alt = '';
                img.referrerPolicy = 'no-referrer';
                avatar.append(img);
              } else {
                avatar.textContent = nameOf(user.id).trim().charAt(0).toUpperCase() || '?';
              }
            } else {
              avatar.textContent = seat.locked ? '🔒' : '+';
            }
            b.querySelector('.name').textContent = user ? nameOf(user.id) + (me ? ' (you)' : '') : (seat.locked ? 'Locked' : 'Empty');
            const badges = [];
            if (user && seat.muted) badges.push(['🔇', 'muted']);
            if (seat.locked) badges.push(['🔒', 'locked']);
            if (seat.pendingFor !== null) badges.push(['✉️', `invite pending for ${nameOf(seat.pendingFor)}`]);
            const badgeBox = b.querySelector('.badges');
            badgeBox.textContent = '';
            for (const [icon, label] of badges) {
              const s = document.createElement('span');
              s.textContent = icon;
              s.title = label;
              s.dataset.badge = label.split(' ')[0];
              badgeBox.append(s);
            }
            let label = `Seat ${seat.index + 1}: `;
            if (user) label += `${nameOf(user.id)}${me ? ' (you)' : ''}${seat.muted ? ', muted' : ''}${speaking ? ', speaking' : ''}`;
            else label += seat.locked ? 'locked' : 'empty, take it';
            if (seat.locked && user) label += ', locked';
            if (seat.pendingFor !== null) label += `, invite pending for ${nameOf(seat.pendingFor)}`;
            b.setAttribute('aria-label', label);
          }
        }

        function renderPeople() {
          const ul = $('participants');
          ul.textContent = '';
          const ids = [...state.people.keys()];
          if (state.me) ids.sort((a, b) => (a === state.me.id ? -1 : b === state.me.id ? 1 : 0));
          for (const id of ids) {
            const li = document.createElement('li');
            li.dataset.userId = String(id);
            const left = document.createElement('span');
            left.textContent = nameOf(id) + (state.me && id === state.me.id ? ' (you)' : '');
            const seat = seatOf(id);
            const tag = document.createElement('span');
            tag.className = 'tag';
            const tags = [];
            if (state.me && id === state.me.id && state.me.role !== 'member') tags.push(state.me.role);
            if (seat) tags.push(`seat ${seat.index + 1}`);
            if (state.speaking.has(id)) tags.push('speaking');
            tag.textContent = tags.length ? ' · ' + tags.join(' · ') : '';
            left.append(tag);
            li.append(left);
            if (isManager() && !(state.me && id === state.me.id) && !seat) {
              const b = document.createElement('button');
              b.type = 'button';
              b.textContent = 'Invite';
              b.setAttribute('aria-label', `Invite ${nameOf(id)} to a seat`);
              b.onclick = () => openInviteDialog(id);
              li.append(b);
            }
            ul.append(li);
          }
          $('people-count').textContent = `(${state.people.size})`;
        }

        function renderControls() {
          const mic = $('mic');
          let text, cls = 'mic';
          if (!state.producer) text = state.micWanted ? '🎤 Starting microphone…' : '🎤 Turn microphone on';
          else if (state.moderatorMuted) { text = '🔇 Muted by a moderator'; cls += ' muted'; }
          else if (state.selfMuted) { text = '🔇 Unmute microphone'; cls += ' muted'; }
          else { text = '🎙️ Mute microphone'; cls += ' live'; }
          mic.textContent = text;
          mic.className = cls;
          mic.setAttribute('aria-pressed', state.producer && !state.selfMuted ? 'true' : 'false');
          mic.dataset.state = !state.producer ? 'off' : state.selfMuted || state.moderatorMuted ? 'muted' : 'live';
          $('leave-seat').hidden = !mySeat();
          $('invite-open').hidden = !isManager();
          $('enable-audio').hidden = !state.audioBlocked;
          const me = state.me;
          const seat = mySeat();
          $('me').textContent = me
            ? `You: ${me.name}${me.role !== 'member' ? ` (${me.role})` : ''}${seat ? ` · seat ${seat.index + 1}` : state.producer ? ' · take a seat to be heard' : ''}`
            : '';
        }

        function render() { renderSeats(); renderPeople(); renderControls(); }

        // ───────────────────────── seats ─────────────────────────

        function setSeat(index, user, muted) {
          if (!Number.isInteger(index) || index < 0 || index >= SEAT_COUNT) return;
          if (user) for (const s of state.seats) if (s.user && s.user.id === user.id && s.index !== index) { s.user = null; s.muted = false; }
          const seat = state.seats[index];
          seat.user = user ? { ...(state.people.get(user.id) || {}), ...user } : null;
          seat.muted = user ? !!muted : false;
          if (user) seat.pendingFor = null;
          if (user && state.me && user.id === state.me.id) state.moderatorMuted = !!muted && !state.selfMuted;
        }

        async function takeSeat(index) {
          await ack(socket, 'seat:take', { roomId, seatIndex: index });
          setSeat(index, { ...(state.people.get(state.me && state.me.id) || {}), id: state.me ? state.me.id : 0, name: state.me ? state.me.name : '' }, state.moderatorMuted);
          render();
        }

        async function leaveSeat() {
          await ack(socket, 'seat:leave', { roomId });
          const seat = mySeat();
          if (seat) { seat.user = null; seat.muted = false; }
          render();
        }

        function onSeatClick(index) {
          const seat = state.seats[index];
          if (!seat.user && !seat.locked && !isManager()) { attempt(`Taking seat ${index + 1}`, () => takeSeat(index)); return; }
          if (!seat.user && seat.locked && !isManager()) { showError(`Seat ${index + 1} is locked`); return; }
          openSeatDialog(index);
        }

        function openSeatDialog(index) {
          const seat = state.seats[index];
          const dialog = $('seat-dialog');
          const actions = $('seat-dialog-actions');
          actions.textContent = '';
          const me = state.me && seat.user && seat.user.id === state.me.id;
          $('seat-dialog-title').textContent = `Seat ${index + 1}`;
          $('seat-dialog-who').textContent = seat.user ? `${nameOf(seat.user.id)}${me ? ' (you)' : ''}${seat.muted ? ' · muted' : ''}` : seat.locked ? 'Locked' : 'Empty';
          const add = (label, what, fn) => {
            const b = document.createElement('button');
            b.type = 'button';
            b.textContent = label;
            b.dataset.action = what;
            b.onclick = () => { dialog.close(); attempt(label, fn); };
            actions.append(b);
          };
          const giftRow = $('seat-dialog-gift');
          giftRow.hidden = !(seat.user && !me);
          $('gift-send').onclick = () => {
            dialog.close();
            const quantity = Math.max(1, Math.min(99, Number($('gift-quantity').value) || 1));
            attempt('Sending a gift', () => sendGift(seat.user.id, Number($('gift-select').value), quantity));
          };
          if (!seat.user && !seat.locked) add('Take this seat', 'take', () => takeSeat(index));
          if (me) add('Leave seat', 'leave', leaveSeat);
          if (isManager()) {
            if (seat.user && !me) {
              add(seat.muted ? 'Unmute' : 'Mute', seat.muted ? 'unmute' : 'mute',
                  () => ack(socket, seat.muted ? 'seat:unmute' : 'seat:mute', { roomId, userId: seat.user.id }));
              add('Remove from seat', 'remove', () => ack(socket, 'seat:remove', { roomId, userId: seat.user.id }).then(() => {
                // seat:cleared goes to everyone but the remover.
                const s = state.seats[index]; s.user = null; s.muted = false; render();
              }));
            }
            if (me) add(seat.muted ? 'Unmute myself (moderator)' : 'Mute myself (moderator)', seat.muted ? 'unmute' : 'mute',
                        () => ack(socket, seat.muted ? 'seat:unmute' : 'seat:mute', { roomId, userId: state.me.id }));
            add(seat.locked ? 'Unlock seat' : 'Lock seat', seat.locked ? 'unlock' : 'lock',
                () => ack(socket, seat.locked ? 'seat:unlock' : 'seat:lock', { roomId, seatIndex: index }));
            if (!seat.user) add('Invite someone…', 'invite', () => openInviteDialog(null, index));
          }
          if (typeof dialog.showModal === 'function') dialog.showModal(); else dialog.setAttribute('open', '');
        }

        function openInviteDialog(userId, seatIndex) {
          const users = $('invite-user');
          const seats = $('invite-seat');
          users.textContent = '';
          seats.textContent = '';
          for (const id of state.people.keys()) {
            if (state.me && id === state.me.id) continue;
            if (seatOf(id)) continue;
            const o = document.createElement('option');
            o.value = String(id);
            o.textContent = nameOf(id);
            if (id === userId) o.selected = true;
            users.append(o);
          }
          for (const s of state.seats) {
            if (s.user) continue;
            const o = document.createElement('option');
            o.value = String(s.index);
            o.textContent = `Seat ${s.index + 1}${s.locked ? ' (locked)' : ''}`;
            if (s.index === seatIndex) o.selected = true;
            seats.append(o);
          }
          if (!users.options.length) { showError('Nobody to invite: everyone in the room is seated'); return; }
          if (!seats.options.length) { showError('No free seat to invite to'); return; }
          const dialog = $('invite-dialog');
          $('invite-send').onclick = () => {
            dialog.close();
            const target = Number(users.value), index = Number(seats.value);
            attempt('Inviting', () => ack(socket, 'seat:invite', { roomId, userId: target, seatIndex: index })
              .then(() => logLine('system', '', `You invited ${nameOf(target)} to seat ${index + 1}.`)));
          };
          dialog.showModal();
        }

        function onInviteReceived(invite) {
          if (invite.roomId && invite.roomId !== roomId) return;
          const dialog = $('invited-dialog');
          clearInterval(state.invite && state.invite.timer);
          const index = invite.seatIndex;
          const update = () => {
            const left = Math.max(0, Math.round((invite.expiresAt - Date.now()) / 1000));
            $('invited-text').textContent = `${(invite.invitedBy && invite.invitedBy.name) || 'A moderator'} invites you to seat ${index + 1} (${left} s left).`;
            if (left <= 0) { clearInterval(state.invite.timer); state.invite = null; if (dialog.open) dialog.close(); }
          };
          state.invite = { seatIndex: index, timer: setInterval(update, 1000) };
          update();
          const done = () => { clearInterval(state.invite && state.invite.timer); state.invite = null; dialog.close(); };
          $('invited-accept').onclick = () => {
            done();
            attempt('Accepting the invite', async () => {
              await ack(socket, 'seat:invite:accept', { roomId, seatIndex: index });
              setSeat(index, { ...(state.people.get(state.me && state.me.id) || {}), id: state.me ? state.me.id : 0, name: state.me ? state.me.name : '' }, state.moderatorMuted);
              render();
            });
          };
          $('invited-decline').onclick = () => { done(); attempt('Declining the invite', () => ack(socket, 'seat:invite:decline', { roomId, seatIndex: index })); };
          if (!dialog.open) dialog.showModal();
        }

        // ───────────────────────── gifts ─────────────────────────

        async function sendGift(recipientId, giftId, quantity) {
          socket.emit('gift:send', { roomId, giftId, recipientId, quantity });
          // gift:received goes to everyone but the sender: show ours at once.
          showGift(state.me ? state.me.id : 0, 'You', recipientId, giftId, quantity);
        }

        function showGift(senderId, senderName, recipientId, giftId, quantity) {
          const gift = GIFTS[giftId] || { emoji: '🎁', name: `gift ${giftId}` };
          logLine('gift', '', `🎁 ${senderName} sent ${gift.emoji} ${gift.name}${quantity > 1 ? ' ×' + quantity : ''} to ${nameOf(recipientId)}`);
          const seat = seatOf(recipientId);
          let x = window.innerWidth / 2, y = window.innerHeight / 2;
          if (seat) {
            const b = seatButtons[seat.index];
            const r = b.getBoundingClientRect();
            x = r.left + r.width / 2;
            y = r.top + r.height / 2;
            b.classList.remove('gifted');
            void b.offsetWidth; // restart the animation
            b.classList.add('gifted');
            setTimeout(() => b.classList.remove('gifted'), 1300);
          }
          const fx = document.createElement('div');
          fx.className = 'effect';
          fx.style.left = `${x}px`;
          fx.style.top = `${y}px`;
          fx.textContent = gift.emoji;
          if (quantity > 1) {
            const c = document.createElement('span');
            c.className = 'count';
            c.textContent = `×${quantity}`;
            fx.append(c);
          }
          $('effects').append(fx);
          setTimeout(() => fx.remove(), 2400);
        }

        // ───────────────────────── media ─────────────────────────

        function trackPeerConnection(transport) {
          const pc = transport.peerConnection;
          window.msabPeerConnections.push(pc);
          transport.observer.on('close', () => {
            const i = window.msabPeerConnections.indexOf(pc);
            if (i >= 0) window.msabPeerConnections.splice(i, 1);
          });
        }

        function wireConnect(transport, what) {
          transport.on('connect', ({ dtlsParameters }, callback, errback) => {
            ack(socket, 'transport:connect', { roomId, transportId: transport.id, dtlsParameters }).then(callback, errback);
          });
          transport.on('connectionstatechange', s => {
            if (s === 'failed') showError(`${what} connection failed (ICE/DTLS); check that the browser can reach msab's media port`);
          });
        }

        function getRecvTransport() {
          if (!state.recvTransport) {
            const generation = state.generation;
            state.recvTransport = (async () => {
              const info = await ack(socket, 'transport:create', { type: 'consumer', roomId });
              if (generation !== state.generation) throw new Error('rejoined meanwhile');
              const t = state.device.createRecvTransport(info);
              wireConnect(t, 'Receive');
              trackPeerConnection(t);
              return t;
            })();
            state.recvTransport.catch(() => { if (state.generation === generation) state.recvTransport = null; });
          }
          return state.recvTransport;
        }

        async function getSendTransport() {
          if (state.sendTransport && !state.sendTransport.closed) return state.sendTransport;
          const info = await ack(socket, 'transport:create', { type: 'producer', roomId });
          const t = state.device.createSendTransport(info);
          wireConnect(t, 'Send');
          t.on('produce', ({ kind, rtpParameters }, callback, errback) => {
            ack(socket, 'audio:produce', { roomId, transportId: t.id, kind, rtpParameters }).then(({ id }) => callback({ id }), errback);
          });
          trackPeerConnection(t);
          state.sendTransport = t;
          return t;
        }

        function playAudio(audio) {
          const p = audio.play();
          if (p && p.catch) {
            p.then(() => { if (state.audioBlocked && [...state.consumers.values()].every(c => !c.audio || !c.audio.paused)) { state.audioBlocked = false; renderControls(); } })
             .catch(e => {
               if (e && e.name === 'NotAllowedError') { state.audioBlocked = true; renderControls(); }
               else if (e && e.name !== 'AbortError') showError(`Cannot play audio: ${e.message}`);
             });
          }
        }

        async function consume(producerId, userId) {
          if (!state.joined || state.consumers.has(producerId)) return;
          if (state.me && userId === state.me.id) return; // our own producer (another tab of ours): no echo
          const generation = state.generation;
          state.consumers.set(producerId, { userId, consumer: null, audio: null });
          try {
            const t = await getRecvTransport();
            const data = await ack(socket, 'audio:consume', { roomId, transportId: t.id, producerId, rtpCapabilities: state.device.rtpCapabilities });
            const consumer = await t.consume({ id: data.id, producerId: data.producerId, kind: data.kind, rtpParameters: data.rtpParameters, appData: { userId } });
            const entry = state.consumers.get(producerId);
            if (generation !== state.generation || !entry) { consumer.close(); return; }
            const audio = new Audio();
            audio.autoplay = true;
            audio.srcObject = new MediaStream([consumer.track]);
            audio.dataset.userId = String(userId);
            $('audio-sink').append(audio);
            entry.consumer = consumer;
            entry.audio = audio;
            await ack(socket, 'consumer:resume', { roomId, consumerId: consumer.id });
            playAudio(audio);
          } catch (e) {
            if (generation === state.generation) {
              state.consumers.delete(producerId);
              showError(`Cannot hear ${nameOf(userId)}: ${e.message}`);
            }
          }
        }

        function dropConsumer(producerId) {
          const entry = state.consumers.get(producerId);
          if (!entry) return;
          state.consumers.delete(producerId);
          if (entry.consumer) entry.consumer.close();
          if (entry.audio) { entry.audio.srcObject = null; entry.audio.remove(); }
        }

        async function startMicrophone() {
          const generation = state.generation;
          if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw new Error('this page needs a secure context (https or 127.0.0.1) for the microphone');
          const stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } });
          const track = stream.getAudioTracks()[0];
          if (generation !== state.generation || !state.micWanted) { track.stop(); return; }
          const t = await getSendTransport();
          const producer = await t.produce({ track, streams: [stream] });
          if (generation !== state.generation) { producer.close(); return; }
          state.producer = producer;
          producer.on('transportclose', () => { if (state.producer === producer) state.producer = null; renderControls(); });
          producer.on('trackended', () => showError('The microphone stopped (device unplugged or permission revoked)'));
          if (state.selfMuted) {
            producer.pause();
            await ack(socket, 'audio:selfMute', { roomId, producerId: producer.id });
          }
          render();
        }

        async function onMicClick() {
          if (!state.joined) throw new Error('not in the room yet');
          if (!state.producer) {
            if (state.micWanted) return; // already starting
            state.micWanted = true;
            state.selfMuted = false;
            renderControls();
            try { await startMicrophone(); } catch (e) { state.micWanted = false; renderControls(); throw e; }
            return;
          }
          const producer = state.producer;
          if (state.selfMuted) {
            await ack(socket, 'audio:selfUnmute', { roomId, producerId: producer.id });
            state.selfMuted = false;
            producer.resume();
          } else {
            producer.pause();
            state.selfMuted = true;
            await ack(socket, 'audio:selfMute', { roomId, producerId: producer.id });
          }
          renderControls();
        }

        // Every join (the first and each reconnect) starts media from scratch: the server freed the old
        // transports when the connection dropped.
        function tearDownMedia() {
          for (const id of [...state.consumers.keys()]) dropConsumer(id);
          const recv = state.recvTransport;
          state.recvTransport = null;
          if (recv) recv.then(t => t.close(), () => {});
          if (state.sendTransport) state.sendTransport.close();
          state.sendTransport = null;
          state.producer = null;
        }

        // ───────────────────────── joining ─────────────────────────

        async function join() {
          state.generation++;
          const generation = state.generation;
          tearDownMedia();
          let res;
          try {
            res = await ack(socket, 'room:join', { roomId });
          } catch (e) {
            showError(`Could not join room "${roomId}": ${e.message}`);
            return;
          }
          if (generation !== state.generation) return;
          state.joined = true;
          state.people.clear();
          if (state.me) state.people.set(state.me.id, { id: state.me.id, name: state.me.name });
          for (const p of res.participants || []) if (p && typeof p.id === 'number') state.people.set(p.id, p);
          for (const s of state.seats) { s.user = null; s.muted = false; s.locked = false; s.pendingFor = null; }
          for (const i of res.lockedSeats || []) if (state.seats[i]) state.seats[i].locked = true;
          state.moderatorMuted = false;
          for (const s of res.seats || []) setSeat(s.seatIndex, s.user, s.isMuted);
          const mine = mySeat();
          if (mine && mine.muted && !state.selfMuted) state.moderatorMuted = true;
          setConnection(`connected (${socket.transportName || '?'})`, 'ok');
          render();
          try {
            state.device = new Device();
            await state.device.load({ routerRtpCapabilities: res.rtpCapabilities });
          } catch (e) {
            showError(`Audio unavailable: ${e.message}`);
            return;
          }
          for (const p of res.existingProducers || []) consume(p.producerId, p.userId);
          if (state.micWanted) attempt('Restarting the microphone', startMicrophone);
        }

        // ───────────────────────── socket ─────────────────────────

        let socket;

        function connect() {
          const claims = decodeClaims(token);
          if (claims && claims.sub) {
            const id = Number(claims.sub);
            const role = (claims.rooms && claims.rooms[roomId]) || 'member';
            state.me = { id, name: claims.name || `User ${id}`, role };
          }
          $('room-title').textContent = `msab · ${roomId}`;
          document.title = `${roomId} · msab`;
          $('room').hidden = false;
          buildSeats();
          render();

          socket = io(location.origin, { auth: { token } });
          window.msabDemo.socket = socket;

          socket.on('connect', () => { setConnection('joining…'); join(); });
          socket.on('disconnect', reason => {
            state.joined = false;
            state.generation++;
            tearDownMedia();
            setConnection(`disconnected (${reason}), reconnecting…`, 'bad');
            renderControls();
          });
          socket.on('connect_error', err => {
            setConnection('not connected', 'bad');
            showError(`Connection: ${err.message}`);
          });
          socket.on('reconnect_attempt', (n, delay) => setConnection(`reconnecting (attempt ${n}, ${Math.round(delay / 100) / 10} s)…`, 'bad'));

          socket.on('room:userJoined', ({ userId, user }) => {
            const known = state.people.has(userId);
            state.people.set(userId, { ...(user || {}), id: userId });
            if (!known) logLine('system', '', `${nameOf(userId)} joined`);
            render();
          });
          socket.on('room:userLeft', ({ userId }) => {
            if (state.people.has(userId)) logLine('system', '', `${nameOf(userId)} left`);
            state.people.delete(userId);
            render();
          });
          socket.on('room:closed', ({ reason }) => {
            state.joined = false;
            tearDownMedia();
            showError(`The room was closed (${reason})`);
            setConnection('room closed', 'bad');
          });
          socket.on('audio:newProducer', ({ producerId, userId }) => consume(producerId, userId));
          socket.on('audio:producerClosed', ({ producerId }) => dropConsumer(producerId));
          socket.on('speaker:active', ({ userId, activeSpeakers }) => {
            state.speakerEvents++;
            state.speaking = new Set(Array.isArray(activeSpeakers) ? activeSpeakers : userId ? [userId] : []);
            clearTimeout(state.speakingTimer);
            // The audio-level observer repeats while people talk; the dominant-speaker one only on change.
            state.speakingTimer = setTimeout(() => { state.speaking.clear(); renderSeats(); renderPeople(); }, Array.isArray(activeSpeakers) ? 1500 : 4000);
            renderSeats();
            renderPeople();
          });
          socket.on('seat:updated', ({ seatIndex, user, isMuted }) => { if (user) setSeat(seatIndex, user, isMuted); render(); });
          socket.on('seat:cleared', ({ seatIndex, reason }) => {
            const s = state.seats[seatIndex];
            if (s && s.user && state.me && s.user.id === state.me.id) {
              logLine('system', '', reason === 'removed' ? 'A moderator took you off your seat.' : `You lost seat ${seatIndex + 1}${reason ? ` (${reason})` : ''}.`);
            }
            if (s) { s.user = null; s.muted = false; }
            render();
          });
          socket.on('seat:locked', ({ seatIndex, isLocked }) => { if (state.seats[seatIndex]) state.seats[seatIndex].locked = !!isLocked; render(); });
          socket.on('seat:userMuted', ({ userId, isMuted, selfMuted }) => {
            const s = seatOf(userId);
            if (s) s.muted = !!isMuted;
            if (state.me && userId === state.me.id && !selfMuted) {
              state.moderatorMuted = !!isMuted;
              logLine('system', '', isMuted ? 'A moderator muted you.' : 'A moderator unmuted you.');
            }
            render();
          });
          socket.on('seat:invite:pending', ({ seatIndex, isPending, invitedUserId }) => {
            if (state.seats[seatIndex]) state.seats[seatIndex].pendingFor = isPending ? (invitedUserId ?? -1) : null;
            renderSeats();
          });
          socket.on('seat:invite:received', onInviteReceived);
          socket.on('chat:message', ({ userId, userName, content, type }) => {
            if (type && type !== 'text') logLine('system', userName || nameOf(userId), ` [${type}] ${content}`);
            else logLine('msg', userName || nameOf(userId), content);
          });
          socket.on('gift:received', ({ senderId, senderName, recipientId, giftId, quantity }) =>
            showGift(senderId, senderName || nameOf(senderId), recipientId, giftId, quantity || 1));
          socket.on('gift:error', ({ code, reason }) => showError(`Gift failed (${code}): ${reason}`));
          socket.on('error', payload => showError((payload && payload.message) || 'server error'));
        }

        function wireControls() {
          $('mic').addEventListener('click', () => attempt('Microphone', onMicClick));
          $('leave-seat').addEventListener('click', () => attempt('Leaving the seat', leaveSeat));
          $('invite-open').addEventListener('click', () => openInviteDialog(null, null));
          $('enable-audio').addEventListener('click', () => {
            state.audioBlocked = false;
            for (const c of state.consumers.values()) if (c.audio) playAudio(c.audio);
            renderControls();
          });
          $('chat-form').addEventListener('submit', ev => {
            ev.preventDefault();
            const input = $('chat-input');
            const content = input.value.trim();
            if (!content) return;
            if (!socket || !socket.connected) { showError('Not connected: message not sent'); return; }
            socket.emit('chat:message', { roomId, content: content.slice(0, 500) });
            input.value = '';
          });
        }

        function main() {
          // Nothing fails silently: an error no handler caught is shown too.
          window.addEventListener('unhandledrejection', ev => showError(`Unexpected: ${ev.reason && ev.reason.message ? ev.reason.message : ev.reason}`));
          wireControls();
          if (!token) {
            const form = $('login');
            form.hidden = false;
            $('login-room').value = roomId;
            setConnection('not connected');
            form.addEventListener('submit', ev => {
              ev.preventDefault();
              const q = new URLSearchParams({ room: $('login-room').value.trim() || 'demo', token: $('login-token').value.trim() });
              location.search = q.toString();
            });
            return;
          }
          connect();
        }

        main();
        """#
}
