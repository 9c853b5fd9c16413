// SIP.js (an independent JavaScript SIP stack) sending and receiving
// page-mode instant messages (RFC 3428) over SIP over WebSocket (RFC 7118):
// two UserAgents, alice and bob, each on its own WebSocket to the server,
// answering the digest challenges with SIP.js's own code. Driven by
// tests/message_sipjs_ws.rs.
//
//   node message.mjs WS_URL DOMAIN PASSWORD TIMEOUT_S HEX1 HEX2 HEX3
//
// Each HEXn is a UTF-8 body, hex-encoded (so no shell or argv layer can
// touch its bytes). The steps, in order:
//   1. alice registers; bob is offline; alice sends body 1 to bob (the
//      server stores it: 202 expected, checked by the test)
//   2. bob registers; the stored body 1 is delivered to him over his flow
//   3. alice sends body 2 to bob while he is registered
//   4. bob sends body 3 back to alice
//
// stdout, one line per event (the test reads and checks them):
//   registered USER
//   sent USER N STATUS REASON           the final response to MESSAGE n
//   received USER N from=URI type=CT date=DATE hex=HEX
//                                       bob's/alice's delegate onMessage
//                                       (values URI-component encoded;
//                                       HEX is the body SIP.js handed over,
//                                       re-encoded as UTF-8)
//   done
// exit 0 when every step happened (the test judges codes and bytes); exit 1
// with "fail: REASON" otherwise. SIP.js's log (traceSip) goes to stderr.

import WebSocket from "ws";

// SIP.js's web transport calls `new WebSocket(url, "sip")`; Node 20 has no
// such global, so it gets the `ws` package's.
globalThis.WebSocket = WebSocket;

const { UserAgent, Registerer, RegistererState, Messager } = await import("sip.js");

const [wsUrl, domain, password, timeoutS, ...hexes] = process.argv.slice(2);
if (!wsUrl || !domain || !password || !timeoutS || hexes.length !== 3) {
  console.error("usage: message.mjs WS_URL DOMAIN PASSWORD TIMEOUT_S HEX1 HEX2 HEX3");
  process.exit(2);
}
const bodies = hexes.map((h) => Buffer.from(h, "hex").toString("utf8"));

function out(line) {
  process.stdout.write(line + "\n");
}

let finished = false;
let stopping = false;
let step = "start";
function fail(reason) {
  if (finished) return;
  finished = true;
  out(`fail: ${reason}`);
  setTimeout(() => process.exit(1), 50);
}
setTimeout(() => fail(`timed out after ${timeoutS} s at step: ${step}`), Number(timeoutS) * 1000);

// Every onMessage, per user, as a promise queue the steps wait on.
const inbox = { alice: [], bob: [] };
const waiters = { alice: [], bob: [] };
function deliver(user, m) {
  const w = waiters[user].shift();
  if (w) w(m);
  else inbox[user].push(m);
}
function nextMessage(user) {
  const m = inbox[user].shift();
  if (m) return Promise.resolve(m);
  return new Promise((resolve) => waiters[user].push(resolve));
}

let received = 0;
function makeUa(user) {
  const ua = new UserAgent({
    uri: UserAgent.makeURI(`sip:${user}@${domain}`),
    authorizationUsername: user,
    authorizationPassword: password,
    transportOptions: { server: wsUrl, traceSip: true, connectionTimeout: 5 },
    logLevel: "debug",
    logBuiltinEnabled: false,
    logConnector: (level, category, label, content) => {
      process.stderr.write(`[${user}] [${level}] ${category}${label ? " " + label : ""}: ${content}\n`);
    },
    delegate: {
      onDisconnect: (error) => {
        if (!stopping) fail(`${user}'s WebSocket disconnected: ${error ? error.message : "cleanly"}`);
      },
      onMessage: (message) => {
        message.accept();
        const req = message.request;
        const body = req.body || "";
        received += 1;
        const fields = {
          from: req.from.uri.toString(),
          type: req.getHeader("Content-Type") || "",
          date: req.getHeader("Date") || "",
          hex: Buffer.from(body, "utf8").toString("hex"),
        };
        const kv = Object.entries(fields)
          .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
          .join(" ");
        out(`received ${user} ${received} ${kv}`);
        deliver(user, fields);
      },
    },
  });
  return ua;
}

async function register(user, ua) {
  const registerer = new Registerer(ua, { expires: 600 });
  const registered = new Promise((resolve, reject) => {
    registerer.stateChange.addListener((s) => {
      if (s === RegistererState.Registered) resolve();
      if (s === RegistererState.Terminated) reject(new Error("registerer terminated"));
    });
  });
  await registerer.register({
    requestDelegate: {
      onReject: (response) =>
        fail(`${user}'s REGISTER: ${response.message.statusCode} ${response.message.reasonPhrase}`),
    },
  });
  await registered;
  out(`registered ${user}`);
  return registerer;
}

// Sends body n from `ua` to `to`; resolves with the final status.
function send(n, from, ua, to) {
  const target = UserAgent.makeURI(`sip:${to}@${domain}`);
  const messager = new Messager(ua, target, bodies[n - 1], "text/plain;charset=UTF-8");
  return new Promise((resolve) => {
    const done = (response) => {
      const m = response.message;
      out(`sent ${from} ${n} ${m.statusCode} ${m.reasonPhrase}`);
      resolve(m.statusCode);
    };
    messager
      .message({ requestDelegate: { onAccept: done, onReject: done } })
      .catch((e) => fail(`${from}'s MESSAGE ${n}: ${e && e.message ? e.message : e}`));
  });
}

try {
  const alice = makeUa("alice");
  const bob = makeUa("bob");
  step = "alice connects";
  await alice.start();
  step = "alice registers";
  const aliceReg = await register("alice", alice);

  step = "alice sends 1 to offline bob";
  await send(1, "alice", alice, "bob");

  step = "bob connects";
  await bob.start();
  step = "bob registers";
  const bobReg = await register("bob", bob);
  step = "bob receives the stored 1";
  await nextMessage("bob");

  step = "alice sends 2 to bob";
  const sent2 = send(2, "alice", alice, "bob");
  step = "bob receives 2";
  await nextMessage("bob");
  await sent2;

  step = "bob sends 3 to alice";
  const sent3 = send(3, "bob", bob, "alice");
  step = "alice receives 3";
  await nextMessage("alice");
  await sent3;

  step = "unregister and stop";
  await Promise.all([aliceReg.unregister(), bobReg.unregister()]);
  await new Promise((resolve) => setTimeout(resolve, 300));
  stopping = true;
  await Promise.all([alice.stop(), bob.stop()]);
} catch (e) {
  fail(`${step}: ${e && e.message ? e.message : e}`);
}
if (!finished) {
  finished = true;
  out("done");
  setTimeout(() => process.exit(0), 50);
}
