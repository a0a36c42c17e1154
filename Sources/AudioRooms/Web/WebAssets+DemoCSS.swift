extension WebAssets {
    /// `/demo.css`: the demo page's styles (phone width: three seats a row under 640 px).
    static let demoCSS = #"""
        :root {
          --bg: #14121f; --panel: #1f1c30; --panel2: #2a2640; --text: #f3f1ff; --muted: #a9a3c9;
          --accent: #8b5cf6; --ok: #22c55e; --warn: #f59e0b; --bad: #ef4444; --ring: #34d399;
          color-scheme: dark;
        }
        * { box-sizing: border-box; }
        html, body { margin: 0; background: var(--bg); color: var(--text); font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
        button, input, select { font: inherit; color: inherit; }
        button { background: var(--accent); border: 0; border-radius: 10px; padding: .55em .9em; cursor: pointer; min-height: 40px; }
        button.secondary { background: var(--panel2); }
        button:focus-visible, input:focus-visible, select:focus-visible { outline: 3px solid #fbbf24; outline-offset: 2px; }
        button[disabled] { opacity: .5; cursor: default; }
        input, select { background: var(--panel2); border: 1px solid #3b3658; border-radius: 8px; padding: .45em .6em; min-height: 40px; }
        .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
        [hidden] { display: none !important; }

        .bar { display: flex; align-items: center; justify-content: space-between; gap: 1em; padding: .6em 1em; background: var(--panel); }
        .bar h1 { font-size: 1.15em; margin: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
        .conn { font-size: .85em; color: var(--muted); }
        .conn.ok { color: var(--ok); } .conn.bad { color: var(--bad); }

        .login { max-width: 34em; margin: 2em auto; display: grid; gap: .8em; padding: 1em; background: var(--panel); border-radius: 12px; }
        .login label { display: grid; gap: .3em; }
        .errors { max-width: 70em; margin: .5em auto 0; padding: 0 1em; }
        .errors .error { background: #451a1a; border: 1px solid var(--bad); border-radius: 8px; padding: .4em .7em; margin: .3em 0; display: flex; justify-content: space-between; gap: 1em; }
        .errors .error button { min-height: 0; padding: .1em .5em; background: transparent; }

        .room { max-width: 70em; margin: 0 auto; padding: .8em 1em 2em; }
        .seats { list-style: none; margin: 0; padding: 0; display: grid; grid-template-columns: repeat(5, 1fr); gap: .6em; }
        .seat { position: relative; width: 100%; display: flex; flex-direction: column; align-items: center; gap: .3em; padding: .6em .2em; background: var(--panel); border: 2px solid transparent; border-radius: 14px; min-height: 112px; color: var(--text); }
        .seat .avatar { position: relative; width: 56px; height: 56px; border-radius: 50%; display: grid; place-items: center; background: var(--panel2); font-size: 1.4em; font-weight: 700; overflow: hidden; border: 3px solid #3b3658; transition: box-shadow .15s, border-color .15s; }
        .seat .avatar img { width: 100%; height: 100%; object-fit: cover; }
        .seat.occupied .avatar { background: hsl(var(--hue, 260) 60% 45%); }
        .seat.speaking .avatar { border-color: var(--ring); box-shadow: 0 0 0 4px rgba(52, 211, 153, .45), 0 0 18px rgba(52, 211, 153, .8); }
        .seat .name { font-size: .85em; max-width: 100%; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; padding: 0 .3em; }
        .seat .index { position: absolute; top: .3em; left: .5em; font-size: .7em; color: var(--muted); }
        .seat .badges { position: absolute; top: .25em; right: .35em; display: flex; gap: .15em; font-size: .85em; }
        .seat.me { border-color: var(--accent); }
        .seat.locked { background: #1a1826; }
        .seat.pending { border-style: dashed; border-color: var(--warn); }
        .seat.empty .name { color: var(--muted); }

        .controls { display: flex; flex-wrap: wrap; align-items: center; gap: .6em; margin: 1em 0; }
        .mic.live { background: var(--ok); color: #06240f; }
        .mic.muted { background: var(--bad); }
        .me { color: var(--muted); font-size: .9em; }

        .columns { display: grid; grid-template-columns: 2fr 1fr; gap: 1em; }
        .columns h2 { font-size: 1em; margin: 0 0 .5em; }
        .chat, .people { background: var(--panel); border-radius: 12px; padding: .8em; min-width: 0; }
        .chat-log { list-style: none; margin: 0 0 .6em; padding: 0; height: 16em; overflow-y: auto; display: flex; flex-direction: column; gap: .25em; }
        .chat-log li { overflow-wrap: anywhere; }
        .chat-log .who { font-weight: 600; color: #c4b5fd; margin-right: .4em; }
        .chat-log .system { color: var(--muted); font-style: italic; }
        .chat-log .gift { color: #fcd34d; }
        .chat-form { display: flex; gap: .5em; }
        .chat-form input { flex: 1; min-width: 0; }
        .participants { list-style: none; margin: 0; padding: 0; display: grid; gap: .35em; }
        .participants li { display: flex; align-items: center; justify-content: space-between; gap: .5em; }
        .participants .tag { font-size: .75em; color: var(--muted); }
        .participants button { min-height: 32px; padding: .2em .6em; font-size: .85em; }

        dialog { background: var(--panel); color: var(--text); border: 1px solid #3b3658; border-radius: 14px; max-width: min(28em, 92vw); }
        dialog::backdrop { background: rgba(0, 0, 0, .55); }
        dialog h2 { margin-top: 0; font-size: 1.1em; }
        dialog label { display: flex; align-items: center; gap: .5em; margin: .4em 0; }
        .actions { display: flex; flex-wrap: wrap; gap: .5em; margin: .6em 0; }
        .gift-row { display: flex; flex-wrap: wrap; align-items: center; gap: .5em; }
        .gift-row input { width: 4.5em; }

        .effects { position: fixed; inset: 0; pointer-events: none; overflow: hidden; }
        .effect { position: fixed; font-size: 2.6em; animation: gift-fly 2.2s ease-out forwards; filter: drop-shadow(0 0 8px rgba(251, 191, 36, .9)); }
        .effect .count { font-size: .45em; font-weight: 700; color: #fde68a; vertical-align: super; }
        @keyframes gift-fly { 0% { transform: translate(-50%, -50%) scale(.3); opacity: 0; } 15% { transform: translate(-50%, -80%) scale(1.4); opacity: 1; } 70% { opacity: 1; } 100% { transform: translate(-50%, -220%) scale(1); opacity: 0; } }
        .seat.gifted { animation: gifted 1.2s ease-out; }
        @keyframes gifted { 0%, 100% { background: var(--panel); } 30% { background: #5b4a16; } }

        @media (max-width: 640px) {
          .seats { grid-template-columns: repeat(3, 1fr); gap: .45em; }
          .seat { min-height: 96px; }
          .seat .avatar { width: 46px; height: 46px; }
          .columns { grid-template-columns: 1fr; }
          .chat-log { height: 12em; }
        }
        @media (prefers-reduced-motion: reduce) {
          .effect { animation-duration: .01s; }
          .seat.gifted { animation: none; }
        }
        """#
}
