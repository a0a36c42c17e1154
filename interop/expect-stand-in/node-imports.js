// Our stand-in for what the official Socket.IO / Engine.IO protocol test suites import
// (node-fetch, ws, chai + chai-string). Node 20 has fetch built in; ws comes from Debian's
// node-ws; chai is not packaged in Debian, so this file implements the few assertions the
// suites use: expect(x).to.eql / .to.be.a / .to.be.oneOf / .to.have.all.keys / .to.startsWith.
import { createRequire } from "node:module";
import assert from "node:assert/strict";

const require = createRequire(import.meta.url);
const { WebSocket: NodeWebSocket } = require("ws");

// Debian's node-ws 8.11 emits every frame of one TCP read synchronously, so a test that awaits
// one message and only then listens for the next loses the frames a fast server coalesced into
// one write. Browsers dispatch one message per task: so does this WebSocket ("message" and
// "close" are deferred with setImmediate, in order; microtasks run between immediates, so an
// awaiting test registers its next listener in time). The suites then test the server, not the
// client library.
class WebSocket extends NodeWebSocket {
  emit(event, ...args) {
    if (event === "message" || event === "close") {
      setImmediate(() => super.emit(event, ...args));
      return true;
    }
    return super.emit(event, ...args);
  }
}

function typeOf(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (value instanceof ArrayBuffer) return "arraybuffer";
  return typeof value;
}

function expect(actual) {
  const to = {
    eql(expected) {
      assert.deepStrictEqual(normalize(actual), normalize(expected));
    },
    startsWith(prefix) {
      assert.ok(typeof actual === "string" && actual.startsWith(prefix), `expected ${JSON.stringify(actual)} to start with ${JSON.stringify(prefix)}`);
    },
    be: {
      a(type) {
        assert.equal(typeOf(actual), type.toLowerCase(), `expected ${JSON.stringify(actual)} to be a ${type}`);
      },
      oneOf(list) {
        assert.ok(list.some((item) => isDeepEqual(item, actual)), `expected ${JSON.stringify(actual)} to be one of ${JSON.stringify(list)}`);
      },
    },
    have: {
      all: {
        keys(...keys) {
          const wanted = (keys.length === 1 && Array.isArray(keys[0]) ? keys[0] : keys).slice().sort();
          assert.deepStrictEqual(Object.keys(actual).sort(), wanted);
        },
      },
    },
  };
  return { to };
}

// chai's eql compares Buffers/typed arrays by content and ignores prototypes of plain objects.
function normalize(value) {
  if (value instanceof ArrayBuffer) return Array.from(new Uint8Array(value));
  if (ArrayBuffer.isView(value)) return Array.from(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === "object") {
    const out = {};
    for (const key of Object.keys(value)) out[key] = normalize(value[key]);
    return out;
  }
  return value;
}

function isDeepEqual(a, b) {
  try {
    assert.deepStrictEqual(normalize(a), normalize(b));
    return true;
  } catch {
    return false;
  }
}

globalThis.WebSocket = WebSocket;
globalThis.chai = { expect };
