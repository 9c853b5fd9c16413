// SIP.js (an independent JavaScript SIP stack) watching a presentity over
// SIP over WebSocket (RFC 7118): SUBSCRIBE for event "presence" (RFC 3856),
// answering the server's digest challenge with its own code, then waits for
// NOTIFYs whose PIDF body carries each expected note, in order, with basic
// "open". Driven by tests/presence_sipjs_ws.rs.
//
//   node presence.mjs WS_URL USER PASSWORD TARGET_URI TIMEOUT_S NOTE...
//
// stdout, one line per event (the test reads it line by line):
//   subscribed            when the SUBSCRIBE got its 2xx
//   seen <i> <note>       when a NOTIFY carried the i-th note (1-based)
//   notify <json>         every NOTIFY's Subscription-State and body
//   terminated <state>    the final NOTIFY after the un-SUBSCRIBE
//   done                  after the last note and the un-SUBSCRIBE
// exit 0 when every note was seen; exit 1 with "fail: REASON" otherwise.
// SIP.js's own log (with every SIP message, traceSip) goes to stderr.

import WebSocket from "ws";

// SIP.js's web transport calls `new WebSocket(url, "sip")`; Node 20 has no
// such global, so it gets the `ws` package's (which has addEventListener
// and binaryType, all SIP.js uses).
globalThis.WebSocket = WebSocket;

const { UserAgent, Subscriber, SubscriptionState } = await import("sip.js");

const [wsUrl, user, password, target, timeoutS, ...notes] = process.argv.slice(2);
if (!wsUrl || !user || !password || !target || !timeoutS || notes.length === 0) {
  console.error("usage: presence.mjs WS_URL USER PASSWORD TARGET_URI TIMEOUT_S NOTE...");
  process.exit(2);
}
const domain = target.replace(/^sips?:[^@]*@/, "").replace(/[;>].*$/, "");

function out(line) {
  process.stdout.write(line + "\n");
}

let finished = false;
let stopping = false; // our own ua.stop() closes the WebSocket
function fail(reason) {
  if (finished) return;
  finished = true;
  out(`fail: ${reason}`);
  // Give stdout a moment to drain before exiting.
  setTimeout(() => process.exit(1), 50);
}

const timer = setTimeout(
  () => fail(`timed out after ${timeoutS} s waiting for note ${next + 1} of ${notes.length}: ${JSON.stringify(notes[next])}`),
  Number(timeoutS) * 1000,
);

const ua = new UserAgent({
  uri: UserAgent.makeURI(`sip:${user}@${domain}`),
  authorizationUsername: user,
  authorizationPassword: password,
  transportOptions: { server: wsUrl, traceSip: true, connectionTimeout: 5 },
  logLevel: "debug",
  logBuiltinEnabled: false,
  logConnector: (level, category, label, content) => {
    process.stderr.write(`[${level}] ${category}${label ? " " + label : ""}: ${content}\n`);
  },
  delegate: {
    onDisconnect: (error) => {
      if (!stopping) fail(`WebSocket transport disconnected: ${error ? error.message : "cleanly"}`);
    },
  },
});

let next = 0; // index of the note we wait for
let subscriber;

function basicOpen(body) {
  return /<(?:[\w-]+:)?basic>\s*open\s*<\/(?:[\w-]+:)?basic>/.test(body);
}

// The final NOTIFY an un-SUBSCRIBE triggers (RFC 6665 §4.2.2). SIP.js
// disposes of the Subscriber as soon as it sends the un-SUBSCRIBE, so it is
// caught at the transport, before SIP.js's core handles (and answers) it.
let onTerminatedNotify = () => {};
const handle = ua.transport.onMessage;
ua.transport.onMessage = (raw) => {
  const text = typeof raw === "string" ? raw : String(raw);
  if (/^NOTIFY /.test(text)) {
    const state = /^Subscription-State:\s*(.*)$/im.exec(text);
    if (state && /^terminated/i.test(state[1].trim())) {
      handle(raw); // SIP.js answers it
      out(`terminated ${state[1].trim()}`);
      onTerminatedNotify();
      return;
    }
  }
  handle(raw);
};

async function allSeen() {
  clearTimeout(timer);
  try {
    const terminated = new Promise((resolve) => {
      onTerminatedNotify = resolve;
    });
    await subscriber.unsubscribe();
    // Wait (bounded) for the final NOTIFY, so SIP.js answers it before the
    // WebSocket closes; its absence shows as a missing "terminated" line.
    await Promise.race([terminated, new Promise((resolve) => setTimeout(resolve, 5000))]);
    stopping = true;
    await ua.stop();
  } catch (e) {
    return fail(`unsubscribe/stop: ${e && e.message ? e.message : e}`);
  }
  finished = true;
  out("done");
  setTimeout(() => process.exit(0), 50);
}

try {
  await ua.start();
} catch (e) {
  fail(`cannot connect to ${wsUrl}: ${e && e.message ? e.message : e}`);
}

const targetUri = UserAgent.makeURI(target);
if (!targetUri) fail(`bad target URI ${target}`);

subscriber = new Subscriber(ua, targetUri, "presence", {
  expires: 600,
  extraHeaders: ["Accept: application/pidf+xml"],
});
subscriber.stateChange.addListener((s) => {
  if (s === SubscriptionState.Subscribed) out("subscribed");
  if (s === SubscriptionState.Terminated && !finished && next < notes.length) {
    fail(`subscription terminated before note ${next + 1} was seen`);
  }
});
subscriber.delegate = {
  onNotify: (notification) => {
    notification.accept();
    const req = notification.request;
    const body = req.body || "";
    out(
      `notify ${JSON.stringify({
        state: req.getHeader("Subscription-State"),
        type: req.getHeader("Content-Type"),
        body,
      })}`,
    );
    if (next < notes.length && body.includes(notes[next]) && basicOpen(body)) {
      out(`seen ${next + 1} ${notes[next]}`);
      next += 1;
      if (next === notes.length) allSeen();
    }
  },
};

try {
  await subscriber.subscribe();
} catch (e) {
  fail(`subscribe: ${e && e.message ? e.message : e}`);
}
