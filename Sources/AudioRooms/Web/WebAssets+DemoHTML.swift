extension WebAssets {
    /// `/`: the demo room page (issue 15 item 3). Its test hooks: `data-testid` seat-0…seat-14, mic,
    /// chat-input, chat-send, chat-log; `window.msabPeerConnections`.
    static let demoHTML = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>msab room</title>
        <link rel="icon" href="data:,">
        <link rel="stylesheet" href="/demo.css">
        <script type="module" src="/demo.js"></script>
        </head>
        <body>
        <header class="bar">
          <h1><span aria-hidden="true">🎙️</span> <span id="room-title">msab</span></h1>
          <span id="conn" class="conn" role="status" aria-live="polite" data-testid="connection">connecting…</span>
        </header>

        <form id="login" class="login" hidden aria-label="Join a room">
          <p>Open this page with <code>?room=ROOM&amp;token=TOKEN</code> (<code>make run</code> prints such a link), or paste them here.</p>
          <label>Room <input id="login-room" name="room" value="demo" required autocomplete="off"></label>
          <label>Token <input id="login-token" name="token" required autocomplete="off"></label>
          <button type="submit">Join</button>
        </form>

        <div id="errors" class="errors" role="alert" aria-live="assertive" data-testid="errors"></div>

        <main id="room" class="room" hidden>
          <section class="stage" aria-label="Seats">
            <ol id="seats" class="seats" data-testid="seats"></ol>
          </section>

          <section class="controls" aria-label="Your controls">
            <button id="mic" type="button" class="mic" data-testid="mic" aria-pressed="false">🎤 Turn microphone on</button>
            <button id="leave-seat" type="button" data-testid="leave-seat" hidden>Leave seat</button>
            <button id="enable-audio" type="button" data-testid="enable-audio" hidden>🔊 Play room audio</button>
            <button id="invite-open" type="button" data-testid="invite-open" hidden>Invite to a seat…</button>
            <span id="me" class="me" data-testid="me"></span>
          </section>

          <div class="columns">
            <section class="chat" aria-label="Chat">
              <h2>Chat</h2>
              <ol id="chat-log" class="chat-log" data-testid="chat-log" aria-live="polite" aria-label="Chat messages"></ol>
              <form id="chat-form" class="chat-form">
                <label class="sr-only" for="chat-input">Message</label>
                <input id="chat-input" data-testid="chat-input" maxlength="500" autocomplete="off" placeholder="Say something…">
                <button id="chat-send" data-testid="chat-send" type="submit">Send</button>
              </form>
            </section>

            <section class="people" aria-label="Participants">
              <h2>In the room <span id="people-count" data-testid="people-count"></span></h2>
              <ul id="participants" class="participants" data-testid="participants"></ul>
            </section>
          </div>
        </main>

        <dialog id="seat-dialog" aria-labelledby="seat-dialog-title" data-testid="seat-dialog">
          <form method="dialog">
            <h2 id="seat-dialog-title">Seat</h2>
            <p id="seat-dialog-who"></p>
            <div id="seat-dialog-gift" class="gift-row" hidden>
              <label>Gift
                <select id="gift-select" data-testid="gift-select">
                  <option value="1">🌹 Rose</option>
                  <option value="2">❤️ Heart</option>
                  <option value="3">🚀 Rocket</option>
                  <option value="4">👑 Crown</option>
                </select>
              </label>
              <label>× <input id="gift-quantity" type="number" min="1" max="99" value="1" inputmode="numeric" aria-label="Quantity"></label>
              <button type="button" id="gift-send" data-testid="gift-send">Send gift</button>
            </div>
            <div id="seat-dialog-actions" class="actions"></div>
            <button value="close" class="secondary">Close</button>
          </form>
        </dialog>

        <dialog id="invite-dialog" aria-labelledby="invite-dialog-title" data-testid="invite-dialog">
          <form id="invite-form" method="dialog">
            <h2 id="invite-dialog-title">Invite to a seat</h2>
            <label>Who <select id="invite-user" data-testid="invite-user" required></select></label>
            <label>Seat <select id="invite-seat" data-testid="invite-seat" required></select></label>
            <div class="actions">
              <button type="button" id="invite-send" data-testid="invite-send">Invite</button>
              <button value="close" class="secondary">Cancel</button>
            </div>
          </form>
        </dialog>

        <dialog id="invited-dialog" aria-labelledby="invited-dialog-title" data-testid="invited-dialog">
          <form method="dialog">
            <h2 id="invited-dialog-title">You are invited</h2>
            <p id="invited-text"></p>
            <div class="actions">
              <button type="button" id="invited-accept" data-testid="invite-accept">Take the seat</button>
              <button type="button" id="invited-decline" data-testid="invite-decline" class="secondary">Decline</button>
            </div>
          </form>
        </dialog>

        <div id="effects" class="effects" aria-hidden="true"></div>
        <div id="audio-sink" hidden></div>
        </body>
        </html>
        """#
}
