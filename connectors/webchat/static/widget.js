/* omniroute web chat widget. Embed with:
 *   <script src="https://HOST/webchat/widget.js" data-channel="CHANNEL_ID" async></script>
 * Optional verified user (from the site's backend): data-user-id, data-user-hash,
 * data-user-email, data-user-name, or window.OmnirouteChat = {user: {...}} before the tag.
 * Everything is rendered with textContent: nothing a visitor or agent writes becomes markup. */
(function () {
  "use strict";
  var script = document.currentScript ||
    document.querySelector("script[data-channel][src*='webchat/widget.js']");
  if (!script || window.__omnirouteChat) return;
  window.__omnirouteChat = true;
  var channel = script.getAttribute("data-channel");
  var src = new URL(script.src, location.href);
  var base = src.origin + src.pathname.replace(/\/webchat\/widget\.js$/, "");
  var api = base + "/webchat/" + encodeURIComponent(channel);
  var settings = window.OmnirouteChat || {};
  var user = settings.user || null;
  if (script.getAttribute("data-user-id")) {
    user = {user_id: script.getAttribute("data-user-id"),
      identity_hash: script.getAttribute("data-user-hash") || "",
      email: script.getAttribute("data-user-email") || null,
      name: script.getAttribute("data-user-name") || null};
  }
  var title = script.getAttribute("data-title") || settings.title || "Chat with us";
  var storeKey = "omniroute-webchat:" + channel;
  var state = load();
  var socket = null, ready = false, retries = 0, pollTimer = null, typingTimer = null;
  var online = true, open = false, unread = 0, shown = {}, pending = [], recent = [];

  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey)) || {}; } catch (e) { return {}; }
  }
  function save() {
    try { localStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* private mode */ }
  }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var k in attrs || {}) node.setAttribute(k, attrs[k]);
    if (text != null) node.textContent = text;
    return node;
  }
  function newId() {
    var bytes = new Uint8Array(15);
    crypto.getRandomValues(bytes);
    return "c_" + Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  /* ---- DOM (shadow root: the site's CSS cannot reach in, ours cannot leak out) ---- */
  var host = el("div", {"id": "omniroute-webchat"});
  var root = host.attachShadow({mode: "open"});
  var style = el("style", {}, [
    ":host{all:initial}*{box-sizing:border-box;font:14px/1.4 system-ui,sans-serif}",
    ".launcher{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;",
    "border:0;background:#2456d6;color:#fff;cursor:pointer;z-index:2147483000;font-size:24px}",
    ".launcher:focus-visible,button:focus-visible,textarea:focus-visible,input:focus-visible",
    "{outline:3px solid #f5a623;outline-offset:2px}",
    ".badge{position:absolute;top:-4px;right:-4px;min-width:20px;padding:0 5px;border-radius:10px;",
    "background:#d62424;color:#fff;font-size:12px;line-height:20px}",
    ".panel{position:fixed;right:20px;bottom:88px;width:360px;height:520px;max-height:80vh;",
    "display:flex;flex-direction:column;background:#fff;color:#111;border-radius:12px;",
    "box-shadow:0 8px 30px rgba(0,0,0,.25);z-index:2147483000;overflow:hidden}",
    ".panel[hidden],[hidden]{display:none!important}",
    "header{display:flex;align-items:center;gap:8px;padding:12px;background:#2456d6;color:#fff}",
    "header h2{flex:1;margin:0;font-size:16px;font-weight:600}",
    "header button{background:none;border:0;color:#fff;font-size:20px;cursor:pointer}",
    ".status{font-size:12px;opacity:.9}",
    ".notice{padding:8px 12px;background:#fff6d6;border-bottom:1px solid #eadb9c}",
    ".log{flex:1;overflow-y:auto;margin:0;padding:12px;list-style:none}",
    ".msg{max-width:80%;margin:6px 0;padding:8px 10px;border-radius:10px;white-space:pre-wrap;",
    "overflow-wrap:anywhere}.msg.in{margin-left:auto;background:#2456d6;color:#fff}",
    ".msg.out{background:#eef1f6}.msg a{color:inherit}",
    ".meta{display:block;margin-top:2px;font-size:11px;opacity:.75}",
    ".typing{padding:0 12px 6px;font-size:12px;color:#555}",
    "form{display:flex;gap:6px;padding:8px;border-top:1px solid #e3e6ec}",
    "textarea{flex:1;resize:none;height:40px;padding:8px;border:1px solid #c6cbd6;border-radius:8px}",
    "button.act{padding:0 12px;border:0;border-radius:8px;background:#2456d6;color:#fff;cursor:pointer}",
    "button.attach{background:#eef1f6;color:#111}",
    ".prechat{padding:16px;display:flex;flex-direction:column;gap:8px}",
    ".prechat input,.notice input{padding:8px;border:1px solid #c6cbd6;border-radius:8px;width:100%}",
    ".prechat button{padding:10px;border:0;border-radius:8px;background:#2456d6;color:#fff}",
    ".rating{display:flex;gap:2px;margin-top:6px}.rating button{border:0;background:none;",
    "padding:2px;font-size:24px;line-height:1;color:#b8bfcc;cursor:pointer}",
    ".rating button.lit{color:#e8a200}.thanks{display:block;margin-top:6px;font-style:italic}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}",
    "@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;height:100vh;max-height:none;",
    "border-radius:0}}"].join(""));
  var launcher = el("button", {"class": "launcher", "type": "button", "aria-label": "Open chat",
    "aria-expanded": "false", "aria-controls": "omr-panel"}, "\uD83D\uDCAC");
  var badge = el("span", {"class": "badge", "hidden": ""});
  launcher.appendChild(badge);
  var panel = el("section", {"class": "panel", "id": "omr-panel", "role": "dialog",
    "aria-label": title, "hidden": ""});
  var header = el("header");
  var heading = el("h2", {}, title);
  var status = el("span", {"class": "status", "aria-live": "polite"}, "");
  var close = el("button", {"type": "button", "aria-label": "Close chat"}, "\u00D7");
  header.append(heading, status, close);
  var notice = el("div", {"class": "notice", "hidden": "", "role": "status"});
  var log = el("ol", {"class": "log", "role": "log", "aria-live": "polite",
    "aria-label": "Messages"});
  var typing = el("div", {"class": "typing", "hidden": "", "aria-live": "polite"},
    "Agent is typing\u2026");
  var prechat = el("form", {"class": "prechat", "hidden": "", "aria-label": "Before we start"});
  var form = el("form", {"aria-label": "Send a message"});
  var label = el("label", {"class": "sr", "for": "omr-input"}, "Your message");
  var input = el("textarea", {"id": "omr-input", "rows": "1", "maxlength": "5000",
    "placeholder": "Write a message\u2026"});
  var file = el("input", {"type": "file", "class": "sr", "tabindex": "-1", "aria-hidden": "true"});
  var attach = el("button", {"type": "button", "class": "act attach",
    "aria-label": "Attach a file"}, "\uD83D\uDCCE");
  var send = el("button", {"type": "submit", "class": "act"}, "Send");
  form.append(label, input, file, attach, send);
  panel.append(header, notice, log, typing, prechat, form);
  root.append(style, launcher, panel);

  function field(form, id, text, type, value) {
    var lab = el("label", {"for": id}, text);
    var box = el("input", {"id": id, "type": type, "autocomplete": type === "email" ? "email" : "name"});
    box.value = value || "";
    form.append(lab, box);
    return box;
  }
  var preText = el("p", {}, "");
  prechat.appendChild(preText);
  var preName = field(prechat, "omr-name", "Your name (optional)", "text", "");
  var preEmail = field(prechat, "omr-email", "Your e-mail (optional)", "email", "");
  prechat.appendChild(el("button", {"type": "submit"}, "Start chat"));

  /* ---- rendering ---- */
  function time(iso) {
    var d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
  }
  function render(m, statusText) {
    var key = String(m.id);
    var item = shown[key] || el("li");
    item.className = "msg " + (m.direction === "inbound" ? "in" : "out");
    item.textContent = "";
    item.appendChild(el("span", {"class": "sr"}, m.direction === "inbound" ? "You: " : "Agent: "));
    item.appendChild(el("span", {"class": "text"}, m.text || ""));
    (m.attachments || []).forEach(function (a) {
      // Our uploads come as paths on this service; anything else only as http(s).
      var href = /^\/webchat\//.test(a.url || "") ? base + a.url : a.url;
      var safe = /^https?:\/\//i.test(href || "");
      var link = el(safe ? "a" : "span", safe ? {"href": href, "target": "_blank",
        "rel": "noopener noreferrer"} : {}, "\uD83D\uDCCE " + (a.filename || "file"));
      item.append(document.createElement("br"), link);
    });
    if (m.survey && m.survey.scores && m.survey.scores.length) item.appendChild(stars(m.survey));
    item.appendChild(el("span", {"class": "meta"},
      time(m.sent_at) + (statusText ? " \u00B7 " + statusText : "")));
    if (!shown[key]) { shown[key] = item; log.appendChild(item); }
    log.scrollTop = log.scrollHeight;
    return item;
  }
  /* Survey stars: buttons (Tab, Enter), lit up to the one hovered or focused. */
  function stars(survey) {
    var group = el("div", {"class": "rating", "role": "group",
      "aria-label": survey.question || "Rate this conversation"});
    var bs = survey.scores.map(function (s) {
      var b = el("button", {"type": "button", "aria-label": "Rate " + s.score + " of 5"}, "\u2605");
      function lit() { bs.forEach(function (o, i) { o.classList.toggle("lit", i < s.score); }); }
      b.onmouseenter = b.onfocus = lit;
      b.onclick = function () {
        if (!ready) return;
        socket.send(JSON.stringify({type: "choice", id: s.id}));
        group.replaceWith(el("span", {"class": "thanks", "role": "status"},
          "Thank you for your rating!"));
      };
      group.appendChild(b);
      return b;
    });
    return group;
  }
  /* A history answer can be older than what arrived live meanwhile (a reply pushed, an own
   * message acked but not yet processed): those stay until the history has them. Own
   * messages are matched by text, as the history knows them by the server's id only. */
  function remember(view, text) {
    recent.push({view: view, text: text});
    if (recent.length > 50) recent.shift();
  }
  function showHistory(items) {
    log.textContent = "";
    shown = {};
    var ids = {}, texts = {};
    items.forEach(function (m) {
      render(m, "");
      ids[String(m.id)] = true;
      if (m.direction === "inbound") texts[m.text] = (texts[m.text] || 0) + 1;
    });
    recent = recent.filter(function (r) {
      if (ids[String(r.view.id)]) return false;
      if (r.view.direction === "inbound" && texts[r.view.text]) { texts[r.view.text]--; return false; }
      return true;
    });
    recent.forEach(function (r) { render(r.view, r.text); });
    pending.forEach(function (p) { render(p.view, p.state); });
    countUnread(items.concat(recent.map(function (r) { return r.view; })));
  }
  function countUnread(items) {
    var seen = state.lastSeen || 0;
    unread = items.filter(function (m) { return m.direction === "outbound" && m.id > seen; }).length;
    if (open && document.visibilityState === "visible") markRead(items); else drawBadge();
  }
  function drawBadge() {
    badge.hidden = unread === 0;
    badge.textContent = String(unread);
    launcher.setAttribute("aria-label", unread ? "Open chat, " + unread + " unread" : "Open chat");
  }
  function markRead(items) {
    var ids = items.filter(function (m) {
      return m.direction === "outbound" && typeof m.id === "number" && m.id > (state.lastSeen || 0);
    }).map(function (m) { return m.id; });
    unread = 0;
    drawBadge();
    if (!ids.length) return;
    state.lastSeen = Math.max.apply(null, ids);
    save();
    if (ready) socket.send(JSON.stringify({type: "read", message_ids: ids}));
    else call("POST", "/read", {message_ids: ids}).catch(function () {});
  }
  function setOnline(value) {
    online = value;
    status.textContent = value ? "Online" : "Offline";
    var hasEmail = (state.profile && state.profile.email) || (user && user.email);
    notice.hidden = value || !!hasEmail || !prechat.hidden;
    if (!notice.hidden && !notice.firstChild) offlineNotice();
    preText.textContent = value ? "Tell us who you are, or just start chatting." :
      "No agent is online right now. Leave your e-mail and we will answer by mail.";
  }
  function offlineNotice() {
    var f = el("form", {"aria-label": "Get the answer by e-mail"});
    f.appendChild(el("p", {}, "No agent is online right now. Leave your e-mail and we will " +
      "answer by mail."));
    var box = field(f, "omr-offline-email", "Your e-mail", "email", "");
    f.appendChild(el("button", {"type": "submit", "class": "act"}, "Save"));
    f.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (!box.checkValidity() || !box.value) { box.focus(); return; }
      state.profile = state.profile || {};
      state.profile.email = box.value.trim();
      save();
      notice.hidden = true;
      input.focus();
    });
    notice.appendChild(f);
  }

  /* ---- server ---- */
  function call(method, path, body, raw, type) {
    var headers = {};
    if (state.token) headers.Authorization = "Bearer " + state.token;
    if (body !== undefined && !raw) headers["Content-Type"] = "application/json";
    if (raw) headers["Content-Type"] = type || "application/octet-stream";
    return fetch(api + path, {method: method, headers: headers,
      body: raw ? raw : body === undefined ? undefined : JSON.stringify(body)})
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (data) {
          if (!r.ok) { var err = new Error(data.detail || r.status); err.status = r.status; throw err; }
          return data;
        });
      });
  }
  function startSession() {
    return call("POST", "/session", {token: state.token || null, user: user}).then(function (s) {
      state.token = s.token;
      if (state.visitor !== s.visitor_id) { state.visitor = s.visitor_id; state.lastSeen = 0; }
      save();
      setOnline(s.agents_online);
    });
  }
  function loadHistory() {
    return call("GET", "/history?limit=100").then(function (h) {
      showHistory(h.items);
      setOnline(h.agents_online);
    });
  }
  function connect() {
    var url = api.replace(/^http/, "ws") + "/ws";
    try { socket = new WebSocket(url); } catch (e) { return reconnect(); }
    socket.onopen = function () { socket.send(JSON.stringify({type: "hello", token: state.token})); };
    socket.onmessage = function (ev) {
      var frame;
      try { frame = JSON.parse(ev.data); } catch (e) { return; }
      handle(frame);
    };
    socket.onclose = function (ev) {
      ready = false;
      if (ev.code === 4404) gone(); else reconnect();
    };
  }
  function gone() {
    if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
    status.textContent = "Chat unavailable";
  }
  function retry(err) {
    if (err && (err.status === 403 || err.status === 404)) gone(); else reconnect();
  }
  function reconnect() {
    ready = false;
    if (!pollTimer) pollTimer = setInterval(function () { loadHistory().catch(function () {}); }, 15000);
    var delay = Math.min(30000, 1000 * Math.pow(2, retries++)) * (0.75 + Math.random() / 2);
    setTimeout(function () {
      startSession().then(connect, retry);
    }, delay);
  }
  function handle(frame) {
    if (frame.type === "ready") {
      ready = true;
      retries = 0;
      if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
      pending.forEach(function (p) { p.inflight = false; });
      setOnline(frame.agents_online);
      loadHistory().catch(function () {}).then(flush);
    } else if (frame.type === "message") {
      var m = frame.message;
      typing.hidden = true;
      if (shown[String(m.id)] && m.direction === "inbound") return;
      render(m, "");
      remember(m, "");
      if (m.direction === "outbound") {
        if (open && document.visibilityState === "visible") markRead([m]);
        else { unread += 1; drawBadge(); }
      }
    } else if (frame.type === "ack") {
      settle(frame.id, "Sent");
    } else if (frame.type === "error" && frame.id) {
      pending.forEach(function (p) { if (p.view.id === frame.id) p.inflight = false; });
      fail(frame.id, frame.code === "rate_limited" ? "Too fast, retrying\u2026" : "Not sent: " + frame.detail);
      if (frame.code === "rate_limited") setTimeout(flush, 3000);
      else pending = pending.filter(function (p) { return p.view.id !== frame.id; });
    } else if (frame.type === "error" && frame.code === "invalid_token") {
      state.token = null;
      save();
    } else if (frame.type === "typing") {
      typing.hidden = false;
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { typing.hidden = true; }, 6000);
    } else if (frame.type === "presence" || frame.type === "pong" || frame.type === "chosen") {
      setOnline(frame.agents_online);
    }
  }
  function settle(id, text) {
    pending = pending.filter(function (p) {
      if (p.view.id !== id) return true;
      render(p.view, text);
      remember(p.view, text);
      return false;
    });
  }
  function fail(id, text) {
    pending.forEach(function (p) { if (p.view.id === id) { p.state = text; render(p.view, text); } });
  }
  function flush() {
    pending.forEach(function (p) {
      if (p.inflight) return;
      p.inflight = true;
      var frame = {id: p.view.id, text: p.view.text, attachments: p.files, profile: state.profile || null};
      if (ready) { socket.send(JSON.stringify(Object.assign({type: "message"}, frame))); return; }
      call("POST", "/messages", frame).then(function () { settle(p.view.id, "Sent"); },
        function (e) { p.inflight = false; fail(p.view.id, e.status === 429 ? "Too fast, retrying\u2026" : "Not sent yet"); });
    });
  }
  function queue(text, files, names) {
    var view = {id: newId(), direction: "inbound", text: text, sent_at: new Date().toISOString(),
      attachments: names};
    var p = {view: view, files: files, state: "Sending\u2026"};
    pending.push(p);
    render(view, p.state);
    flush();
  }

  /* ---- interaction ---- */
  function setOpen(value) {
    open = value;
    panel.hidden = !value;
    launcher.setAttribute("aria-expanded", String(value));
    if (!value) { launcher.focus(); return; }
    var needsPrechat = !state.prechatDone && !user && !log.children.length;
    prechat.hidden = !needsPrechat;
    form.hidden = needsPrechat;
    setOnline(online);
    (needsPrechat ? preName : input).focus();
    readVisible();
  }
  function readVisible() {
    if (!open || document.visibilityState !== "visible") return;
    markRead(Object.keys(shown).map(function (k) {
      return {id: Number(k), direction: shown[k].classList.contains("out") ? "outbound" : "inbound"};
    }));
  }
  launcher.addEventListener("click", function () { setOpen(!open); });
  close.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (ev) { if (ev.key === "Escape") setOpen(false); });
  prechat.addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (preEmail.value && !preEmail.checkValidity()) { preEmail.focus(); return; }
    state.profile = {name: preName.value.trim() || null, email: preEmail.value.trim() || null};
    state.prechatDone = true;
    save();
    prechat.hidden = true;
    form.hidden = false;
    setOnline(online);
    input.focus();
  });
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    queue(text, [], []);
  });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit(); }
  });
  var typedAt = 0;  // agents see "typing"; at most one frame per 3 s
  input.addEventListener("input", function () {
    var now = Date.now();
    if (ready && input.value && now - typedAt > 3000) { typedAt = now; socket.send('{"type":"typing"}'); }
  });
  attach.addEventListener("click", function () { file.click(); });
  file.addEventListener("change", function () {
    var chosen = file.files && file.files[0];
    file.value = "";
    if (!chosen) return;
    call("POST", "/files?filename=" + encodeURIComponent(chosen.name), undefined, chosen,
      chosen.type).then(function (ref) {
      queue(input.value.trim(), [ref.file_id], [{url: ref.url, filename: ref.filename}]);
      input.value = "";
    }, function (e) { status.textContent = "Upload failed: " + e.message; });
  });
  document.addEventListener("visibilitychange", readVisible);

  function start() {
    document.body.appendChild(host);
    startSession().then(function () { return loadHistory(); }).then(connect, retry);
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
