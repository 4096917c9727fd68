// Browser calls with each platform's own SDK, from the short-lived credentials our server gives
// (switchboard.spec.WebCall). Each SDK is imported only when its platform is called,
// so the page loads none of them until then (and prerendering never evaluates them).
//
//   window.switchboardWebCall.start(credentials) -> Promise<{ok, state, error}>
//   window.switchboardWebCall.end()              -> Promise<{ok, state}>

const STARTERS = {
  // livekit-client: our worker is already dispatched to the room the token opens.
  async livekit(c) {
    const { Room, RoomEvent } = await import("livekit-client");
    const room = new Room();
    room.on(RoomEvent.Disconnected, () => report("ended"));
    await room.connect(c.url, c.access_token);
    await room.localParticipant.setMicrophoneEnabled(true);
    return () => room.disconnect();
  },
  // retell-client-js-sdk: the access token from /v2/create-web-call, used within 30 seconds.
  async retell(c) {
    const { RetellWebClient } = await import("retell-client-js-sdk");
    const client = new RetellWebClient();
    let failure = null; // startCall reports a failed connection as an "error" event, not a rejection
    client.on("error", (err) => { failure = err || new Error("Retell web call failed"); report("failed"); });
    client.on("call_ended", () => report("ended"));
    await client.startCall({ accessToken: c.access_token });
    if (failure) throw failure;
    return () => client.stopCall();
  },
  // @vapi-ai/web: the organisation's public key and the agent's assistant.
  async vapi(c) {
    const mod = await import("@vapi-ai/web");
    const Vapi = mod.default?.default ?? mod.default ?? mod.Vapi;
    const vapi = new Vapi(c.public_key);
    vapi.on("call-end", () => report("ended"));
    const call = await vapi.start(c.assistant_id);
    if (!call) throw new Error("Vapi did not start the call");
    return () => vapi.stop();
  },
  // @signalwire/js: a guest token that may dial only the agent's Fabric address.
  async signalwire(c) {
    const { SignalWire } = await import("@signalwire/js");
    const client = await SignalWire({ token: c.access_token });
    const call = await client.dial({
      to: c.address, audio: true, video: false, negotiateVideo: false,
      rootElement: document.getElementById("web-call-media") || undefined,
    });
    call.on("destroy", () => report("ended"));
    await call.start();
    return async () => { await call.hangup(); await client.disconnect(); };
  },
};

let hangUp = null;

function report(state) {
  // The page shows the call's state from this element (its text is read by people and tests).
  const el = typeof document !== "undefined" && document.getElementById("web-call-sdk-state");
  if (el) el.textContent = state;
  if (state === "ended") hangUp = null;
}

export async function startWebCall(credentials) {
  const start = STARTERS[credentials && credentials.platform];
  if (!start) return { ok: false, state: "failed", error: "This platform offers no browser calls." };
  if (hangUp) await endWebCall();
  report("connecting");
  try {
    hangUp = await start(credentials);
    report("in call");
    return { ok: true, state: "in call", error: "" };
  } catch (err) {
    console.warn("web call", credentials.platform, err); // the SDK's own words stay in the console
    hangUp = null;
    report("failed");
    return { ok: false, state: "failed", error: "" };
  }
}

export async function endWebCall() {
  const stop = hangUp;
  hangUp = null;
  try {
    if (stop) await stop();
  } catch (err) {
    console.warn("web call hang-up", err);
  }
  report("ended");
  return { ok: true, state: "ended", error: "" };
}

export function installWebCall(target) {
  if (target && !target.switchboardWebCall) {
    target.switchboardWebCall = { start: startWebCall, end: endWebCall };
  }
}
