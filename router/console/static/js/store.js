// What the console knows: the signed-in agent, the directory (channels, teams, agents), the
// inbox and the open thread. Unread counts and dismissed suggestions live in this browser.

import { api } from "./api.js";

const SEEN = "omniroute.seen";
const DISMISSED = "omniroute.dismissed";

function loadJson(name, fallback) {
  try { return JSON.parse(localStorage.getItem(name)) ?? fallback; } catch { return fallback; }
}

export class Store {
  constructor() {
    this.me = null;
    this.view = "mine";
    this.team = "";
    this.status = "open";
    this.breached = false;
    this.threads = [];
    this.byId = new Map();
    this.selectedId = null;
    this.thread = null;
    this.customer = null;
    this.messages = [];
    this.earlier = null;
    this.channels = new Map();
    this.channelNames = new Map();
    this.teams = new Map();
    this.agents = new Map();
    this.names = new Map();
    this.pendingNames = new Set();
    this.liveUnread = new Map();
    this.seen = loadJson(SEEN, {});
    this.dismissed = new Set(loadJson(DISMISSED, []));
  }

  setChannels(channels) {
    for (const channel of channels) {
      this.channels.set(channel.id, channel.type);
      this.channelNames.set(channel.id, channel.name);
    }
  }

  setTeams(teams) { for (const team of teams) this.teams.set(team.id, team); }

  setAgents(agents) { for (const agent of agents) this.agents.set(agent.id, agent.name); }

  agentName(id) {
    if (id === null || id === undefined) return null;
    return id === this.me?.id ? "me" : this.agents.get(id) || `agent ${id}`;
  }

  setThreads(threads, view) {
    const open = threads.filter((t) => view !== "queue" || t.queue_position || !t.case);
    if (view === "queue") {
      open.sort((a, b) => (a.queue_position ?? 1e9) - (b.queue_position ?? 1e9));
    }
    this.threads = open;
    this.byId = new Map(open.map((t) => [t.id, t]));
  }

  // A case's unread count: inbound messages since this browser last showed it.
  unread(thread) {
    const kase = thread.case;
    if (kase && typeof kase.messages_in === "number") {
      return Math.max(0, kase.messages_in - (this.seen[kase.id] ?? 0));
    }
    return this.liveUnread.get(thread.id) || 0;
  }

  bumpUnread(threadId) {
    this.liveUnread.set(threadId, (this.liveUnread.get(threadId) || 0) + 1);
  }

  markSeen(thread) {
    this.liveUnread.delete(thread.id);
    if (thread.case && typeof thread.case.messages_in === "number") {
      this.seen[thread.case.id] = thread.case.messages_in;
      const ids = Object.keys(this.seen);
      if (ids.length > 2000) for (const id of ids.slice(0, ids.length - 2000)) delete this.seen[id];
      localStorage.setItem(SEEN, JSON.stringify(this.seen));
    }
  }

  dismiss(id) { this.dismissed.add(id); this.saveDismissed(); }

  undismiss(id) { this.dismissed.delete(id); this.saveDismissed(); }

  saveDismissed() { localStorage.setItem(DISMISSED, JSON.stringify([...this.dismissed])); }

  inboxContext() {
    return { channels: this.channels, names: this.names, teams: this.teams,
      agents: this.agents, meId: this.me?.id, selectedId: this.selectedId,
      unread: (thread) => this.unread(thread) };
  }

  // Customer names for the inbox, four requests at a time, each customer asked once.
  async fetchNames(ids, redraw) {
    const missing = [...new Set(ids)].filter((id) => !this.names.has(id)
      && !this.pendingNames.has(id));
    if (!missing.length) return;
    for (const id of missing) this.pendingNames.add(id);
    if (missing.length > 20) {
      // Many at once (the first inbox): the newest customers in one page first.
      const page = await api("/v1/customers?limit=200").catch(() => ({ items: [] }));
      for (const customer of page.items) {
        this.names.set(customer.id, customer.name || `Customer ${customer.id}`);
        this.pendingNames.delete(customer.id);
      }
    }
    const work = missing.filter((id) => !this.names.has(id));
    const worker = async () => {
      while (work.length) {
        const id = work.shift();
        try {
          const customer = await api(`/v1/customers/${id}`);
          this.names.set(id, customer.name || `Customer ${id}`);
        } catch { this.names.set(id, `Customer ${id}`); }
        this.pendingNames.delete(id);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    redraw?.();
  }
}
