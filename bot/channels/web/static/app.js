// Web chat: the conversation is kept on the server (/api/history); messages go to /api/message, /api/press and
// /api/upload, each with a client key that a retry reuses (the server answers a key once). Server replies are a
// Telegram-HTML subset, escaped server-side. Texts and limits come from the page's #config (prompts/replies.toml).
(() => {
  const cfg = JSON.parse(document.getElementById("config").textContent);
  const T = cfg.texts;
  const fmt = (s, vars) => s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  const $ = (id) => document.getElementById(id);
  const log = $("log"), input = $("input"), sendBtn = $("send"), counter = $("counter"), typing = $("typing");
  const touch = window.matchMedia("(pointer: coarse)").matches;
  const uid = () => (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()).replace(/[^A-Za-z0-9]/g, "");
  let busy = false;
  let earlier = null; // the "earlier messages" button, when the server has older ones

  // ---- drawing -------------------------------------------------------------------------------------------------
  function scrollEnd() { log.scrollTop = log.scrollHeight; }

  function place(el, where) {
    if (where === "top") {
      const anchor = earlier ? earlier.nextSibling : $("welcome").nextSibling;
      log.insertBefore(el, anchor);
    } else {
      log.insertBefore(el, typing);
    }
  }

  function message(role, html, buttons, meta, where) {
    const wrap = document.createElement("div");
    wrap.className = "msg " + role;
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    if (role === "me") bubble.textContent = html; else bubble.innerHTML = html;
    wrap.appendChild(bubble);
    meta = meta || {};
    if (meta.qa_id) wrap.dataset.qa = String(meta.qa_id);
    if (buttons && buttons.length) bubble.appendChild(buttonRows(buttons, wrap));
    if (meta.qa_id && meta.vote !== undefined) showVote(wrap, meta.vote);
    place(wrap, where);
    if (where !== "top") scrollEnd();
    return wrap;
  }

  function buttonRows(buttons, wrap) {
    const box = document.createElement("div");
    box.className = "buttons";
    for (const row of buttons) {
      const r = document.createElement("div");
      r.className = "row";
      for (const b of row) {
        const btn = document.createElement("button");
        btn.type = "button";
        btn.textContent = b.label;
        btn.dataset.data = b.data;
        if (b.data.startsWith("q:v:")) btn.setAttribute("aria-pressed", "false");
        btn.addEventListener("click", () => press(b.data, b.label, wrap));
        r.appendChild(btn);
      }
      box.appendChild(r);
    }
    return box;
  }

  function showVote(wrap, value) {
    for (const b of wrap.querySelectorAll('button[data-data^="q:v:"]')) {
      const chosen = value !== 0 && b.dataset.data.endsWith(":" + value);
      b.setAttribute("aria-pressed", chosen ? "true" : "false");
      b.title = chosen ? T.voted : "";
    }
  }

  function toast(text, where) {
    const t = document.createElement("div");
    t.className = "toast";
    t.setAttribute("role", "status");
    t.textContent = text;
    place(t, where);
    scrollEnd();
    return t;
  }

  function render(replies) {
    for (const r of replies || []) {
      if (r.toast) toast(r.toast);
      if (r.html) message("bot", r.html, r.buttons, r.meta);
    }
  }

  function setBusy(on) {
    busy = on;
    log.setAttribute("aria-busy", on ? "true" : "false");
    sendBtn.disabled = on;
    typing.hidden = !on;
    if (on) scrollEnd();
  }

  // ---- sending ---------------------------------------------------------------------------------------------------
  async function post(url, body) {
    const opts = { method: "POST", credentials: "same-origin" };
    if (body instanceof FormData) opts.body = body;
    else { opts.headers = { "Content-Type": "application/json" }; opts.body = JSON.stringify(body); }
    const res = await fetch(url, opts);
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (res.status >= 500 || data === null) throw new Error("server " + res.status);
    return { status: res.status, data };
  }

  // One delivery of a request; a failure (offline, server error) marks the member's bubble and offers 重试 with
  // the same key, so the server still answers it once. `restore`: text put back into an empty composer.
  async function deliver(url, makeBody, me, restore, onData) {
    setBusy(true);
    try {
      const { data } = await post(url, makeBody());
      if (me) { me.classList.remove("failed"); const f = me.querySelector(".fail"); if (f) f.remove(); }
      if (data.error) { toast(data.error); if (me) me.classList.add("failed"); }
      if (data.replies && onData) onData(data); else render(data.replies);
      if (restore !== null && input.value === restore) { input.value = ""; changed(); }
    } catch (e) {
      failed(url, makeBody, me, restore, onData);
    } finally {
      setBusy(false);
    }
  }

  function failed(url, makeBody, me, restore, onData) {
    if (restore !== null && !input.value) { input.value = restore; changed(); }
    const note = document.createElement("div");
    note.className = "fail";
    note.setAttribute("role", "alert");
    const text = document.createElement("span");
    text.textContent = navigator.onLine === false ? T.offline : T.failed;
    const retry = document.createElement("button");
    retry.type = "button";
    retry.className = "retry";
    retry.textContent = T.retry;
    retry.addEventListener("click", () => {
      if (busy) return;
      note.remove();
      deliver(url, makeBody, me, restore, onData);
    });
    note.append(text, retry);
    if (me) { me.classList.add("failed"); me.appendChild(note); } else { place(note); }
    scrollEnd();
  }

  function sendText(text, label) {
    if (busy) return;
    if (!text.trim()) return;
    if (text.length > cfg.maxText) { toast(fmt(T.too_long, { max: cfg.maxText, n: text.length })); return; }
    const key = uid();
    const me = message("me", label || text.trim());
    const restore = label ? null : text;
    if (!label) { input.value = ""; changed(); }
    deliver("/api/message", () => ({ text: text.trim(), label: label || "", id: key }), me, restore);
  }

  function press(data, label, wrap) {
    if (busy) return;
    const key = uid();
    if (data.startsWith("q:p:")) {
      deliver("/api/press", () => ({ data, label, id: key }), null, null, (d) => passage(wrap, data, d.replies));
      return;
    }
    if (data.startsWith("q:v:")) {
      deliver("/api/press", () => ({ data, label, id: key }), null, null, (d) => {
        if (d.vote) showVote(wrap, d.vote.value);
        for (const r of d.replies) if (r.toast) toast(r.toast);
      });
      return;
    }
    const me = message("me", label);
    deliver("/api/press", () => ({ data, label, id: key }), me, null);
  }

  // ---- passages under their answer -----------------------------------------------------------------------------
  function passage(wrap, data, replies) {
    if (!wrap) { render(replies); return; }
    const [, , qa, n] = data.split(":");
    let box = wrap.querySelector(".passage");
    if (!box) {
      box = document.createElement("div");
      box.className = "passage";
      wrap.querySelector(".bubble").appendChild(box);
    }
    box.replaceChildren();
    for (const r of replies) {
      if (r.toast) toast(r.toast);
      if (!r.html) continue;
      const p = document.createElement("div");
      p.className = "passage-text";
      p.innerHTML = r.html;
      box.appendChild(p);
    }
    if (!box.childNodes.length) return;
    const whole = document.createElement("button");
    whole.type = "button";
    whole.className = "whole";
    whole.textContent = T.whole_section;
    whole.dataset.section = qa + ":" + n;
    whole.addEventListener("click", () => section(box, whole, qa, n));
    box.appendChild(whole);
    box.scrollIntoView({ block: "nearest" });
  }

  async function section(box, btn, qa, n) {
    const open = box.querySelector(".section");
    if (open) { open.remove(); btn.textContent = T.whole_section; return; }
    try {
      const res = await fetch(`/api/section?qa=${encodeURIComponent(qa)}&n=${encodeURIComponent(n)}`,
        { credentials: "same-origin" });
      const data = await res.json();
      const s = document.createElement("div");
      s.className = "section";
      if (data.html) s.innerHTML = data.html; else s.textContent = data.error || T.failed;
      box.appendChild(s);
      btn.textContent = T.hide_section;
    } catch (e) {
      toast(T.failed);
    }
  }

  // ---- attachments -----------------------------------------------------------------------------------------------
  const allowed = cfg.accept.split(",").filter((x) => x.startsWith("."));
  const sizeLabel = (n) => (n >= 1048576 ? (n / 1048576).toFixed(1) + " MB" : Math.max(1, Math.round(n / 1024)) + " KB");

  function attach(files) {
    for (const file of files) {
      const name = file.name || "image.png";
      const ext = name.includes(".") ? name.slice(name.lastIndexOf(".")).toLowerCase() : "";
      if (!allowed.includes(ext)) { toast(fmt(T.bad_type, { name })); continue; }
      if (file.size > cfg.maxBytes) {
        toast(fmt(T.too_big, { name, size: sizeLabel(file.size), max: sizeLabel(cfg.maxBytes) }));
        continue;
      }
      queue.push({ file, name });
    }
    drain();
  }

  const queue = [];
  async function drain() {
    while (queue.length && !busy) {
      const { file, name } = queue.shift();
      const key = uid();
      const me = message("me", "📎 " + name + "（" + sizeLabel(file.size) + "）");
      const body = () => { const f = new FormData(); f.append("id", key); f.append("file", file, name); return f; };
      await deliver("/api/upload", body, me, null);
    }
  }

  $("file").addEventListener("change", (e) => { attach(e.target.files); e.target.value = ""; });
  $("camera").addEventListener("change", (e) => { attach(e.target.files); e.target.value = ""; });
  input.addEventListener("paste", (e) => {
    const files = e.clipboardData && e.clipboardData.files;
    if (files && files.length) { e.preventDefault(); attach(files); }
  });
  const chat = $("chat");
  chat.addEventListener("dragover", (e) => { e.preventDefault(); chat.classList.add("dropping"); });
  chat.addEventListener("dragleave", () => chat.classList.remove("dropping"));
  chat.addEventListener("drop", (e) => {
    e.preventDefault();
    chat.classList.remove("dropping");
    if (e.dataTransfer && e.dataTransfer.files.length) attach(e.dataTransfer.files);
  });

  // ---- composer ----------------------------------------------------------------------------------------------------
  function changed() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, Math.round(window.innerHeight * 0.4)) + "px";
    const n = input.value.length;
    counter.hidden = n === 0;
    counter.textContent = n + "/" + cfg.maxText;
    counter.classList.toggle("over", n > cfg.maxText);
  }
  input.addEventListener("input", changed);
  $("form").addEventListener("submit", (e) => {
    e.preventDefault();
    sendText(input.value);
  });
  input.addEventListener("keydown", (e) => {
    // On a desktop keyboard Enter sends (Shift+Enter: new line); on a phone Enter is a new line, 发送 sends.
    if (!touch && e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendBtn.click(); }
  });
  for (const b of document.querySelectorAll(".quick button")) {
    b.addEventListener("click", () => {
      const label = b.textContent.trim();
      if (b.dataset.cmd) sendText(b.dataset.cmd, label); else press(b.dataset.data, label, null);
    });
  }

  // ---- history -----------------------------------------------------------------------------------------------------
  async function loadHistory(before) {
    const url = "/api/history" + (before ? "?before=" + before : "");
    const res = await fetch(url, { credentials: "same-origin" });
    const data = await res.json();
    const keep = log.scrollHeight - log.scrollTop;
    const rows = before ? data.messages.slice().reverse() : data.messages;
    for (const m of rows) {
      const el = message(m.role, m.role === "me" ? new DOMParser().parseFromString(m.html, "text/html").body.textContent : m.html,
        m.buttons, m.meta, before ? "top" : undefined);
      el.dataset.id = String(m.id);
    }
    if (earlier) { earlier.remove(); earlier = null; }
    if (data.more && data.messages.length) {
      earlier = document.createElement("button");
      earlier.type = "button";
      earlier.id = "earlier";
      earlier.className = "earlier";
      earlier.textContent = T.earlier;
      const first = data.messages[0].id;
      const oldest = () => Math.min(first, ...[...log.querySelectorAll(".msg[data-id]")].map((x) => +x.dataset.id));
      earlier.addEventListener("click", () => loadHistory(oldest()));
      log.insertBefore(earlier, $("welcome").nextSibling);
    }
    if (before) log.scrollTop = log.scrollHeight - keep; else scrollEnd();
  }

  async function start() {
    try { await loadHistory(null); } catch (e) { /* offline: the page still works */ }
    // A campaign link (/?start=cmp-<id>) opens that campaign's answer form at once (then leaves the address).
    const startParam = new URLSearchParams(location.search).get("start");
    if (startParam && /^cmp-\d{1,12}$/.test(startParam)) {
      history.replaceState(null, "", location.pathname);
      press("cmp:" + startParam.slice(4), T.campaign, null);
    } else if (startParam && /^act-[A-Za-z0-9_-]{1,40}$/.test(startParam)) {
      // An activity's check-in link (/?start=act-<code>, the QR code at the venue) checks the member in.
      history.replaceState(null, "", location.pathname);
      sendText("/start " + startParam, T.checkin);
    }
    document.body.dataset.ready = "1";
  }
  start();
  changed();

  setInterval(async () => {
    if (busy) return;
    try {
      const res = await fetch("/api/notifications", { credentials: "same-origin" });
      const data = await res.json();
      for (const r of data.replies) message("bot", r.html, r.buttons);
    } catch (e) { /* offline: try again later */ }
  }, 15000);
})();
