// museforge web chat. Plain JS over the JSON API under /api; every piece of text from
// a person or the model goes into the page as text (textContent), never as markup.
"use strict";

const state = { session: null, info: null, uploads: [], artwork: null, artworks: [] };
const $ = (id) => document.getElementById(id);

// -- building elements -------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// -- talking to the server ---------------------------------------------------------------

async function api(method, path, body, raw) {
  const init = { method, headers: {} };
  if (raw) {
    init.body = raw;
    init.headers["Content-Type"] = raw.type || "application/octet-stream";
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(path, init);
  // a token revoked (or replaced) while the page was open: the page signs in again
  if (response.status === 401) location.assign("/");
  const data = response.headers.get("content-type")?.includes("json")
    ? await response.json() : null;
  if (!response.ok) {
    let detail = data && data.detail;
    if (Array.isArray(detail)) detail = detail.map((d) => d.msg).join("; ");
    throw new Error(detail || `${response.status} ${response.statusText}`);
  }
  return data;
}

const sessionPath = (rest = "") => `/api/sessions/${state.session.id}${rest}`;

// -- sessions ----------------------------------------------------------------------------

async function loadSessions() {
  const sessions = await api("GET", "/api/sessions");
  const list = $("sessions");
  list.replaceChildren(...sessions.map((s) => el("li", {},
    el("button", {
      type: "button", class: "session" + (state.session && s.id === state.session.id ? " active" : ""),
      dataset: { id: s.id }, title: `${s.artworks} artworks`, onclick: () => openSession(s),
    }, el("span", { class: "name" }, s.name), el("span", { class: "count" }, s.artworks)))));
  return sessions;
}

async function openSession(session) {
  state.session = session;
  state.artwork = null;
  history.replaceState(null, "", `#s=${session.id}`);
  $("session-title").textContent = session.name;
  $("export").href = sessionPath("/export");
  document.querySelectorAll("#sessions .session").forEach((b) =>
    b.classList.toggle("active", Number(b.dataset.id) === session.id));
  const messages = await api("GET", sessionPath("/messages"));
  const box = $("messages");
  box.replaceChildren(...messages.map(renderMessage));
  if (!messages.length) box.append(welcome());
  scrollDown();
  await refreshArtworks();
  for (const job of await api("GET", sessionPath("/jobs"))) {
    // a turn still waiting has not been written to the history yet
    if (job.state === "queued") box.append(userBubble(job.message));
    const bubble = pendingBubble();
    box.append(bubble);
    follow(job, bubble);
  }
  scrollDown();
  $("input").focus();
}

function welcome() {
  return el("div", { class: "welcome" },
    el("h2", {}, "What shall we make?"),
    el("p", {}, "Ask for a picture (“paint a fox in the snow, watercolor”) or music, then " +
      "refine it in words (“warmer”, “a variation of #1”, “undo”). Attach a PNG, a MIDI " +
      "file or a recording (WAV, FLAC, OGG, MP3) to start from your own."));
}

// -- messages ----------------------------------------------------------------------------

function renderMessage(m) {
  if (m.role === "user") return userBubble(m.text);
  const node = el("div", { class: `message ${m.role}` },
    el("div", { class: "who" }, m.role === "assistant" ? "museforge" : m.role),
    el("div", { class: "text" }, m.text));
  addResults(node, m.artifacts || [], m.batches || [], m.downloads || []);
  return node;
}

function userBubble(text, files) {
  return el("div", { class: "message user" },
    el("div", { class: "text" }, text),
    (files || []).map((f) => el("div", { class: "file" }, "attached: ", f)));
}

function addResults(node, artifacts, batches, downloads) {
  // scores export_music wrote: a link each, named as the reply names them
  if (downloads && downloads.length) {
    node.append(el("div", { class: "downloads" }, downloads.map((d) =>
      el("a", { class: "download", href: d.url, download: d.name }, `↓ ${d.name}`))));
  }
  for (const batch of batches) {
    node.append(el("div", { class: "batch actions" },
      batch.map((n, i) => actionButton("variation", `V${i + 1}`, n, `a variation of #${n}`))));
  }
  if (artifacts.length) node.append(el("div", { class: "results" }, artifacts.map(card)));
}

function card(a) {
  const caption = el("figcaption", {}, el("b", {}, `${a.ref} v${a.version}`), " ", a.title);
  const media = [];
  if (a.kind === "music") {
    if (a.files.png) media.push(el("img", { class: "art roll", src: a.files.png, alt: `piano roll of ${a.ref}`, onload: keepDown }));
    if (a.files.ogg) media.push(el("audio", { controls: true, preload: "none", src: a.files.ogg }));
    if (a.files.mid) media.push(el("a", { class: "download", href: a.files.mid, download: "" }, "↓ MIDI"));
    // a score the person sent, as it came
    if (a.files.abc) media.push(el("a", { class: "download", href: a.files.abc, download: "" }, "↓ ABC"));
    if (a.files.musicxml) media.push(el("a", { class: "download", href: a.files.musicxml, download: "" }, "↓ MusicXML"));
  } else if (a.kind === "audio") {
    // a clip: its player on the OGG, the waveform over the spectrogram, and both files
    if (a.files.png) media.push(el("img", { class: "art wave", src: a.files.png, alt: `waveform and spectrogram of ${a.ref}`, onload: keepDown }));
    if (a.files.ogg) media.push(el("audio", { controls: true, preload: "none", src: a.files.ogg }));
    if (a.files.wav) media.push(el("a", { class: "download", href: a.files.wav, download: "" }, "↓ WAV"));
    if (a.files.ogg) media.push(el("a", { class: "download", href: a.files.ogg, download: "" }, "↓ OGG"));
  } else if (a.files.png) {
    media.push(el("a", { href: a.files.png, target: "_blank", rel: "noopener" },
      el("img", { class: "art", src: a.files.png, alt: a.title, onload: keepDown })));
  }
  return el("figure", {
    class: `card ${a.kind}`, dataset: { artwork: a.artwork, version: a.version },
    onclick: (e) => { if (!e.target.closest("button,a,audio")) selectArtwork(a.artwork); },
  }, media, caption,
  el("div", { class: "actions" }, a.actions.map((b) => actionButton(b.action, b.label, b.artwork, b.message, b.version))));
}

function actionButton(action, label, artwork, message, version) {
  return el("button", {
    type: "button", class: "action", title: message, dataset: { action, artwork },
    onclick: () => send({ action, artwork, version }, message),
  }, label);
}

function scrollDown() {
  const box = $("messages");
  box.scrollTop = box.scrollHeight;
}

function keepDown(e) {
  // a picture that loads after its message was shown grows the list: stay at the bottom
  // if that is where the reader was
  const box = $("messages");
  if (box.scrollHeight - box.scrollTop - box.clientHeight < e.target.clientHeight + 200) scrollDown();
}

// -- turns -------------------------------------------------------------------------------

async function send(payload, shownText, files) {
  const box = $("messages");
  box.querySelector(".welcome")?.remove();
  box.append(userBubble(shownText, files));
  const bubble = pendingBubble();
  box.append(bubble);
  scrollDown();
  try {
    const job = await api("POST", sessionPath("/turns"), payload);
    follow(job, bubble);
  } catch (err) {
    showError(bubble, err.message);
  }
}

function pendingBubble() {
  return el("div", { class: "message assistant pending" },
    el("div", { class: "who" }, "museforge"),
    el("div", { class: "status" }, "sending…"),
    el("progress", { max: 1 }));
}

function follow(job, bubble) {
  const status = bubble.querySelector(".status");
  const bar = bubble.querySelector("progress");
  const cancel = el("button", { type: "button", class: "cancel", onclick: async () => {
    cancel.disabled = true;
    try { await api("DELETE", `/api/jobs/${job.id}`); } catch (err) { status.textContent = err.message; }
  } }, "Cancel");
  bubble.append(cancel);
  status.textContent = job.position > 1 ? `busy, you are number ${job.position}` : "starting…";
  const events = new EventSource(job.events);
  let finished = false;
  const on = (name, fn) => events.addEventListener(name, (e) => fn(JSON.parse(e.data)));
  on("queued", (d) => { status.textContent = d.text; bar.removeAttribute("value"); });
  on("started", () => { status.textContent = "working…"; });
  on("progress", (d) => {
    status.textContent = `${d.what} — step ${d.step}/${d.total}`;
    bar.max = d.total; bar.value = d.step;
  });
  const end = () => { finished = true; events.close(); cancel.remove(); };
  on("done", (d) => { end(); showResult(bubble, d.result, job.session); });
  on("failed", (d) => { end(); showError(bubble, d.error); });
  on("cancelled", () => { end(); showError(bubble, "cancelled"); });
  events.onerror = () => {
    if (finished) return;
    events.close();
    poll(job, bubble, end);
  };
}

async function poll(job, bubble, end) {
  // the event stream broke (a proxy, a sleeping laptop): ask for the job instead
  for (;;) {
    await new Promise((r) => setTimeout(r, 1500));
    let now;
    try { now = await api("GET", `/api/jobs/${job.id}`); } catch (err) { showError(bubble, err.message); end(); return; }
    if (now.state === "queued" || now.state === "running") continue;
    end();
    if (now.result) showResult(bubble, now.result, job.session); else showError(bubble, now.error || now.state);
    return;
  }
}

function showResult(bubble, result, sessionId) {
  bubble.classList.remove("pending");
  bubble.replaceChildren(el("div", { class: "who" }, "museforge"),
    el("div", { class: "text" }, result.reply));
  for (const e of result.errors) {
    if (!result.reply.includes(e.error)) bubble.append(el("div", { class: "error" }, e.file ? `${e.file}: ${e.error}` : e.error));
  }
  addResults(bubble, result.artifacts, result.batches, result.downloads);
  scrollDown();
  loadSessions();
  if (sessionId !== state.session.id) return; // the person has moved to another session
  const touched = result.artifacts.at(-1);
  refreshArtworks(touched ? touched.artwork : state.artwork);
}

function showError(bubble, text) {
  bubble.classList.remove("pending");
  bubble.classList.add("failed");
  bubble.replaceChildren(el("div", { class: "who" }, "museforge"), el("div", { class: "error" }, text));
}

// -- uploads -----------------------------------------------------------------------------

async function attach(file) {
  const limit = state.info ? state.info.max_upload_bytes : Infinity;
  const chip = el("span", { class: "chip" }, `${file.name} `);
  $("attachments").append(chip);
  if (file.size > limit) {
    chip.classList.add("bad");
    chip.append(`— too big (limit ${Math.round(limit / 2 ** 20)} MB)`);
    setTimeout(() => chip.remove(), 4000);
    return;
  }
  try {
    const up = await api("POST", sessionPath(`/uploads?filename=${encodeURIComponent(file.name)}`), undefined, file);
    state.uploads.push(up);
    chip.append(el("button", { type: "button", title: "Remove", onclick: () => {
      state.uploads = state.uploads.filter((u) => u !== up); chip.remove();
    } }, "✕"));
  } catch (err) {
    chip.classList.add("bad");
    chip.append(`— ${err.message}`);
    setTimeout(() => chip.remove(), 6000);
  }
}

// -- artworks and the version tree -------------------------------------------------------

async function refreshArtworks(select) {
  state.artworks = await api("GET", sessionPath("/artworks"));
  $("artworks").replaceChildren(...state.artworks.slice().reverse().map((a) => el("li", {},
    el("button", {
      type: "button", class: "artwork" + (a.number === state.artwork ? " active" : ""),
      dataset: { artwork: a.number }, onclick: () => selectArtwork(a.number),
    }, a.thumbnail ? el("img", { src: a.thumbnail, alt: "" }) : null,
    el("span", {}, el("b", {}, a.ref), " ", a.title, el("small", {}, ` v${a.head}/${a.versions}`))))));
  const pick = select || state.artwork || (state.artworks.at(-1) || {}).number;
  if (pick) await selectArtwork(pick); else $("tree-box").hidden = true;
}

async function selectArtwork(number) {
  state.artwork = number;
  document.querySelectorAll("#artworks .artwork").forEach((b) =>
    b.classList.toggle("active", Number(b.dataset.artwork) === number));
  const art = state.artworks.find((a) => a.number === number);
  if (!art) return;
  const versions = await api("GET", sessionPath(`/artworks/${number}/versions`));
  if (state.artwork !== number) return; // another click came first
  $("tree-box").hidden = false;
  $("tree-title").textContent = `${art.ref} ${art.title}`;
  $("tree-undo").disabled = !art.can_undo;
  $("tree-redo").disabled = !art.can_redo;
  $("tree").replaceChildren(...branch(versions, null, art));
}

function branch(versions, parent, art) {
  return versions.filter((v) => v.parent === parent).map((v) => {
    const children = branch(versions, v.number, art);
    const node = el("button", {
      type: "button", class: "version" + (v.head ? " head" : ""), dataset: { version: v.number },
      title: v.head ? "the current version" : `go back to v${v.number}`,
      onclick: () => { if (!v.head) send({ action: "revert", artwork: art.number, version: v.number }, `revert #${art.number} to v${v.number}`); },
    }, v.files.png ? el("img", { src: v.files.png, alt: "" }) : null,
    el("span", { class: "label" }, el("b", {}, `v${v.number}`), " ", v.operation.replace(/_/g, " ")),
    v.head ? el("span", { class: "marker" }, "● current") : null);
    return el("li", {}, node, children.length ? el("ul", {}, children) : null);
  });
}

// -- start -------------------------------------------------------------------------------

function wire() {
  const input = $("input");
  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    const uploads = state.uploads;
    if (!text && !uploads.length) return;
    input.value = "";
    input.style.height = "";
    state.uploads = [];
    $("attachments").replaceChildren();
    send({ message: text, uploads: uploads.map((u) => u.id) }, text, uploads.map((u) => u.name));
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("composer").requestSubmit(); }
  });
  input.addEventListener("input", () => {
    input.style.height = "";
    input.style.height = `${Math.min(input.scrollHeight, 200)}px`;
  });
  $("file").addEventListener("change", (e) => {
    for (const f of e.target.files) attach(f);
    e.target.value = "";
  });
  $("new-session").addEventListener("submit", async (e) => {
    e.preventDefault();
    const name = $("new-session-name").value.trim();
    if (!name) return;
    $("new-session-name").value = "";
    const s = await api("POST", "/api/sessions", { name });
    await loadSessions();
    await openSession(s);
  });
  $("tree-undo").addEventListener("click", () =>
    send({ action: "undo", artwork: state.artwork }, `undo #${state.artwork}`));
  $("tree-redo").addEventListener("click", () =>
    send({ action: "redo", artwork: state.artwork }, `redo #${state.artwork}`));
}

async function start() {
  wire();
  state.info = await api("GET", "/api/info");
  $("info").textContent = `${state.info.user} · planner: ${state.info.planner}`;
  if (state.info.signed_in) {
    $("info").append(" · ", el("a", { id: "sign-out", href: "/logout" }, "sign out"));
  }
  let sessions = await loadSessions();
  if (!sessions.length) {
    await api("POST", "/api/sessions", { name: "default" });
    sessions = await loadSessions();
  }
  const wanted = Number((location.hash.match(/s=(\d+)/) || [])[1]);
  await openSession(sessions.find((s) => s.id === wanted) || sessions[0]);
}

start().catch((err) => {
  $("messages").append(el("div", { class: "message failed" }, el("div", { class: "error" }, err.message)));
});
