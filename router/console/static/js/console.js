// The agent console: sign in, inbox, thread, reply, live updates, keyboard.

import { api, ApiError, optional, query, session, download } from "./api.js";
import { $, h, setText } from "./dom.js";
import { renderInbox, tickInbox } from "./inbox.js";
import { messageItem, renderCustomer, renderHistory, updateTick } from "./thread.js";
import { Suggestions } from "./suggestions.js";
import { Composer } from "./composer.js";
import { LiveEvents } from "./live.js";
import { setPresence, TransferDialog } from "./actions.js";
import { Store } from "./store.js";

const store = new Store();
const el = {
  signin: $("#signin"), shell: $("#shell"), inbox: $("#inbox"), empty: $("#inbox-empty"),
  history: $("#history"), title: $("#thread-title"), meta: $("#thread-meta"),
  live: $("#live"), presence: $("#presence"), me: $("#me"), team: $("#team-filter"),
  status: $("#status-filter"), customer: $("#customer-pane"), suggestions: $("#suggestions"),
  undo: $("#undo-bar"), earlier: $("#earlier"), toast: $("#toast"),
};
const composer = new Composer($("#composer"), {
  channels: store.channels, channelNames: store.channelNames,
  onSent: (message) => { addMessage(message); scheduleInbox(); },
});
const transfer = new TransferDialog($("#transfer-dialog"), {
  teams: store.teams, agents: store.agents, get meId() { return store.me?.id; },
  onTransferred: (thread) => handedOver(thread),
});
const suggestions = new Suggestions(el.suggestions, store, {
  toast: (text, action) => toast(text, action), fail: (error) => fail(error),
  changed: () => { openThread(store.selectedId); scheduleInbox(); },
  hideToast: () => { el.toast.hidden = true; },
});
const live = new LiveEvents(onEvent, (state) => {
  setText(el.live, state === "live" ? "● live" : "○ reconnecting…");
  el.live.className = `live ${state}`;
});

function toast(text, action) {
  el.toast.replaceChildren(h("span", { text }),
    action ? h("button", { type: "button", text: action.label, onclick: action.run }) : "");
  el.toast.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.toast.hidden = true; }, action ? 10_000 : 4000);
}

function fail(error) {
  if (error instanceof ApiError && error.status === 401) return signOut("Your key was refused.");
  toast(error.message || String(error));
}

// ---- sign in -----------------------------------------------------------------------------
async function signIn(key) {
  session.key = key;
  try {
    // Every list is a page ({items, next_cursor}); a company may have more than one page.
    const channels = [];
    let cursor = null;
    do {
      const query = cursor ? `?limit=200&cursor=${encodeURIComponent(cursor)}` : "?limit=200";
      const page = await api(`/v1/channels${query}`);
      channels.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    store.setChannels(channels);
  } catch (error) {
    session.key = null;
    setText($("#signin-error"), error.status === 401 ? "That key was refused." : error.message);
    return;
  }
  store.me = await api("/v1/agents/me").catch(() => null);
  setText(el.me, store.me ? store.me.name : "signed in (no agent profile)");
  el.presence.disabled = !store.me;
  if (store.me) el.presence.value = store.me.presence;
  $("#next").disabled = !store.me;
  if (!store.me && store.view === "mine") store.view = "all";
  await loadDirectory();
  el.signin.hidden = true;
  el.shell.hidden = false;
  syncFilters();
  live.start();
  await loadInbox();
  if (store.me && store.me.presence === "offline") changePresence("online");
}

async function loadDirectory() {
  const [teams, agents] = await Promise.all([
    optional("/v1/teams?limit=200", { items: [] }).catch(() => ({ items: [] })),
    optional("/v1/agents?limit=200", { items: [] }).catch(() => ({ items: [] })),
  ]);
  store.setTeams(teams.items || teams);
  store.setAgents(agents.items || agents);
  if (store.me) store.agents.set(store.me.id, store.me.name);
  el.team.replaceChildren(h("option", { value: "", text: "All teams" }),
    ...[...store.teams.values()].map((t) => h("option", { value: t.id,
      text: `Line ${t.line} · ${t.name}` })));
}

function signOut(reason) {
  live.stop();
  session.key = null;
  el.shell.hidden = true;
  el.signin.hidden = false;
  setText($("#signin-error"), reason || "");
  $("#key").focus();
}

async function changePresence(status) {
  try {
    const me = await setPresence(status);
    store.me = me;
    el.presence.value = me.presence;
  } catch (error) { fail(error); }
}

// ---- inbox -------------------------------------------------------------------------------
function filters() {
  const params = { status: store.status, team_id: store.team, sort: "sla_due", limit: 200,
    breached: store.breached ? "true" : "" };
  if (store.view === "mine") params.assignee_id = "me";
  if (store.view === "unassigned" || store.view === "queue") params.assignee_id = "none";
  return params;
}

async function loadInbox() {
  try {
    const page = await api(`/v1/threads${query(filters())}`);
    store.setThreads(page.items, store.view);
    // The open case's new messages are read as they arrive.
    const open = store.byId.get(store.selectedId);
    if (open) store.markSeen(open);
    drawInbox();
    store.fetchNames(page.items.map((t) => t.customer_id), drawInbox);
  } catch (error) { fail(error); }
}

function drawInbox() {
  // Measured so bench/console.py can read how long a full inbox takes to build.
  const start = performance.now();
  renderInbox(el.inbox, store.threads, store.inboxContext());
  performance.measure("inbox-render", { start, end: performance.now(),
    detail: { rows: store.threads.length } });
  el.empty.hidden = store.threads.length > 0;
}

let inboxTimer = null;
function scheduleInbox() {
  clearTimeout(inboxTimer);
  inboxTimer = setTimeout(loadInbox, 150);
}

function syncFilters() {
  for (const button of document.querySelectorAll("[data-view]")) {
    button.setAttribute("aria-pressed", String(button.dataset.view === store.view));
    if (button.dataset.view === "mine") button.disabled = !store.me;
  }
  el.team.value = store.team;
  el.status.value = store.status;
}

// ---- thread ------------------------------------------------------------------------------
async function openThread(id, { focusList = true } = {}) {
  store.selectedId = id;
  document.body.classList.add("view-thread");
  drawInbox();
  if (focusList) el.inbox.querySelector(".selected")?.scrollIntoView({ block: "nearest" });
  try {
    const thread = await api(`/v1/threads/${id}`);
    if (store.selectedId !== id) return;
    const [page, customer] = await Promise.all([
      api(`/v1/threads/${id}/messages?limit=100`),
      api(`/v1/customers/${thread.customer_id}`),
    ]);
    if (store.selectedId !== id) return;
    store.thread = thread;
    store.customer = customer;
    store.messages = page.items;
    store.earlier = page.next_cursor;
    store.names.set(customer.id, customer.name || `Customer ${customer.id}`);
    store.markSeen(thread);
    drawThread();
    composer.show(thread, customer);
    suggestions.show(customer);
    drawInbox();
  } catch (error) { fail(error); }
}

function threadContext() {
  return { channels: store.channels, customerName: store.customer?.name || "Customer" };
}

function drawThread() {
  const thread = store.thread;
  delete $("#thread-pane").dataset.empty;
  delete el.customer.dataset.empty;
  setText(el.title, store.customer?.name || `Customer ${thread.customer_id}`);
  const teamId = thread.team_id ?? thread.case?.team_id;
  const team = store.teams.get(teamId);
  setText(el.meta, [thread.status, thread.case?.priority || thread.priority,
    team ? `Line ${team.line} · ${team.name}` : thread.team,
    store.agentName(thread.assignee_id ?? thread.case?.assignee_id) || thread.assignee
      || "unassigned"].filter(Boolean).join(" · "));
  renderHistory(el.history, store.messages, threadContext());
  el.earlier.hidden = !store.earlier;
  el.history.lastElementChild?.scrollIntoView({ block: "end" });
  renderCustomer(el.customer, store.customer, { channels: store.channels });
}

async function loadEarlier() {
  if (!store.thread || !store.earlier) return;
  const page = await api(`/v1/threads/${store.thread.id}/messages${query({
    cursor: store.earlier, limit: 100 })}`);
  store.messages = [...page.items, ...store.messages];
  store.earlier = page.next_cursor;
  renderHistory(el.history, store.messages, threadContext());
  el.earlier.hidden = !store.earlier;
}

function addMessage(message) {
  if (!store.thread || message.thread_id !== store.thread.id) return;
  const index = store.messages.findIndex((m) => m.id === message.id);
  const item = messageItem(message, threadContext());
  if (index >= 0) {
    store.messages[index] = message;
    el.history.querySelector(`li[data-id="${message.id}"]`)?.replaceWith(item);
    return;
  }
  store.messages.push(message);
  el.history.append(item);
  item.scrollIntoView({ block: "end" });
}

async function setStatus(status) {
  if (!store.thread) return;
  try {
    const thread = await api(`/v1/threads/${store.thread.id}`, { method: "PATCH",
      body: { status } });
    toast(status === "resolved" ? "Resolved" : `Marked ${status}`);
    afterChange(thread);
  } catch (error) { fail(error); }
}

// A case handed to another line or agent leaves this agent's hands (and often their view):
// close it and go on with the next one.
function handedOver(thread) {
  const team = store.teams.get(thread.team_id);
  const to = [team ? `Line ${team.line} · ${team.name}` : null,
    store.agentName(thread.assignee_id)].filter(Boolean).join(", ");
  toast(`Transferred${to ? ` to ${to}` : ""}`);
  closeThread();
  scheduleInbox();
}

function closeThread() {
  store.selectedId = null;
  store.thread = null;
  store.customer = null;
  store.messages = [];
  setText(el.title, "Choose a case (j / k)");
  $("#thread-pane").dataset.empty = "";
  el.customer.dataset.empty = "";
  setText(el.meta, "");
  el.history.replaceChildren();
  el.earlier.hidden = true;
  composer.reset();
  document.body.classList.remove("view-thread");
  drawInbox();
}

function afterChange(thread) {
  store.thread = { ...store.thread, ...thread };
  drawThread();
  scheduleInbox();
}

// ---- live events -------------------------------------------------------------------------
function onEvent(type, data) {
  if (type === "stream.reset") { scheduleInbox(); if (store.selectedId) openThread(store.selectedId); return; }
  const current = store.thread && data.thread_id === store.thread.id;
  if (type === "message.created" || type === "message.updated") {
    if (current) addMessage(data);
    else if (data.direction === "inbound") store.bumpUnread(data.thread_id);
  } else if (type === "message.status") {
    if (current) updateTick(el.history, data.message_id, data.status, data.error);
    const message = store.messages.find((m) => m.id === data.message_id);
    if (message) message.status = data.status;
    return;
  } else if (current && (type.startsWith("case.") || type.startsWith("sla.")
      || type === "thread.updated")) {
    api(`/v1/threads/${store.thread.id}`).then((thread) => {
      if (store.thread?.id === thread.id) { store.thread = thread; drawThread(); }
    }).catch(() => {});
  }
  if (type === "sla.breached") toast(`SLA breached on a case (${data.metric || "target"})`);
  scheduleInbox();
}

// ---- keyboard ----------------------------------------------------------------------------
function move(step) {
  if (!store.threads.length) return;
  const index = store.threads.findIndex((t) => t.id === store.selectedId);
  const next = Math.max(0, Math.min(store.threads.length - 1, index + step));
  openThread(store.threads[index < 0 ? 0 : next].id);
}

document.addEventListener("keydown", (event) => {
  if (el.shell.hidden || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target.closest("input, textarea, select, dialog")) return;
  const keys = {
    j: () => move(1), k: () => move(-1), r: () => composer.focus(), e: () => setStatus("resolved"),
    p: () => setStatus("pending"), t: () => store.thread && transfer.open(store.thread),
    n: () => { $("#note-toggle").checked = true; composer.showWindow(); composer.focus(); },
    Escape: () => document.body.classList.remove("view-thread"),
  };
  const action = keys[event.key];
  if (action) { event.preventDefault(); action(); }
});

// ---- wiring ------------------------------------------------------------------------------
$("#signin").addEventListener("submit", (event) => {
  event.preventDefault();
  signIn($("#key").value.trim());
});
$("#signout").addEventListener("click", async () => {
  // Leaving on purpose: offline at once, not after the stream's grace period.
  if (store.me) await setPresence("offline").catch(() => {});
  signOut();
});
el.presence.addEventListener("change", () => changePresence(el.presence.value));
$("#next").addEventListener("click", async () => {
  try {
    const thread = await api("/v1/agents/me/next", { method: "POST" });
    if (!thread) { toast("Nothing waits in your queues"); return; }
    store.view = "mine";
    syncFilters();
    await loadInbox();
    openThread(thread.id);
  } catch (error) { fail(error); }
});
for (const button of document.querySelectorAll("[data-view]")) {
  button.addEventListener("click", () => { store.view = button.dataset.view; syncFilters(); loadInbox(); });
}
el.team.addEventListener("change", () => { store.team = el.team.value; loadInbox(); });
el.status.addEventListener("change", () => { store.status = el.status.value; loadInbox(); });
$("#breached-filter").addEventListener("change", (event) => {
  store.breached = event.target.checked;
  loadInbox();
});
el.inbox.addEventListener("click", (event) => {
  const item = event.target.closest("li[data-id]");
  if (item) openThread(Number(item.dataset.id), { focusList: false });
});
el.history.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-attachment]");
  if (!link) return;
  event.preventDefault();
  download(link.dataset.attachment, link.dataset.filename).catch(fail);
});
el.earlier.addEventListener("click", () => loadEarlier().catch(fail));
$("#back").addEventListener("click", () => document.body.classList.remove("view-thread"));
$("#resolve-btn").addEventListener("click", () => setStatus("resolved"));
$("#pending-btn").addEventListener("click", () => setStatus("pending"));
$("#transfer-btn").addEventListener("click", () => store.thread && transfer.open(store.thread));
setInterval(() => { if (!el.shell.hidden) tickInbox(el.inbox, store.byId); }, 1000);

if (session.key) signIn(session.key); else { el.signin.hidden = false; $("#key").focus(); }
