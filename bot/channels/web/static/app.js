// Web chat: posts to /api/message and /api/press; server replies are a Telegram-HTML subset, escaped server-side.
(() => {
  const log = document.getElementById("log");
  const input = document.getElementById("input");
  const uid = () => (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()).replace(/-/g, "");

  function add(cls, html, buttons) {
    const wrap = document.createElement("div");
    wrap.className = "msg " + cls;
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    if (cls === "me") bubble.textContent = html; else bubble.innerHTML = html;
    if (buttons && buttons.length) {
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
          btn.addEventListener("click", () => { add("me", b.label); send("/api/press", { data: b.data }); });
          r.appendChild(btn);
        }
        box.appendChild(r);
      }
      bubble.appendChild(box);
    }
    wrap.appendChild(bubble);
    log.appendChild(wrap);
    log.scrollTop = log.scrollHeight;
  }

  function toast(text) {
    const t = document.createElement("div");
    t.className = "toast";
    t.textContent = text;
    log.appendChild(t);
    log.scrollTop = log.scrollHeight;
  }

  async function send(url, body) {
    body.id = uid();
    try {
      const res = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body), credentials: "same-origin" });
      const data = await res.json();
      for (const r of data.replies) {
        if (r.toast) toast(r.toast);
        if (r.html) add("bot", r.html, r.buttons);
      }
    } catch (e) {
      toast("网络异常，请稍后再试");
    }
  }

  function submitText(text) {
    text = text.trim();
    if (!text) return;
    add("me", text);
    send("/api/message", { text });
  }

  document.getElementById("form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value;
    input.value = "";
    submitText(text);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); document.getElementById("send").click(); }
  });
  for (const b of document.querySelectorAll(".quick button")) {
    b.addEventListener("click", () => submitText(b.dataset.cmd));
  }
  // A campaign link (/?start=cmp-<id>) opens that campaign's answer form at once.
  const startParam = new URLSearchParams(location.search).get("start");
  // An activity's check-in link (/?start=act-<code>, the QR code at the venue) checks the member in.
  if (startParam && (/^cmp-\d{1,12}$/.test(startParam) || /^act-[A-Za-z0-9_-]{1,40}$/.test(startParam))) {
    submitText("/start " + startParam);
  }
  setInterval(async () => {
    try {
      const res = await fetch("/api/notifications", { credentials: "same-origin" });
      const data = await res.json();
      for (const r of data.replies) add("bot", r.html, r.buttons);
    } catch (e) { /* offline: try again later */ }
  }, 15000);
})();
