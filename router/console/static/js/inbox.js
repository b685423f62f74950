// The inbox: one row per case, in the order the API sorted them (SLA due first).

import { h, setText } from "./dom.js";
import { channelName, timeLeft } from "./format.js";

function channelType(thread, ctx) {
  return thread.case?.channel_type || ctx.channels.get(thread.last_inbound_channel_id) || null;
}

function who(thread, ctx) {
  const id = thread.assignee_id ?? thread.case?.assignee_id;
  if (id !== null && id !== undefined) {
    return id === ctx.meId ? "me" : ctx.agents.get(id) || `agent ${id}`;
  }
  return thread.assignee || "unassigned";
}

function row(thread, ctx) {
  const type = channelType(thread, ctx);
  const left = timeLeft(thread.case);
  const unread = ctx.unread(thread);
  const teamId = thread.team_id ?? thread.case?.team_id;
  const team = teamId !== null && teamId !== undefined ? ctx.teams.get(teamId)?.name : thread.team;
  const priority = thread.case?.priority || thread.priority;
  const selected = thread.id === ctx.selectedId;
  return h("li", {
    className: `case${left.breached ? " breached" : ""}${selected ? " selected" : ""}`,
    dataset: { id: thread.id }, role: "option", "aria-selected": String(selected),
    tabIndex: -1,
  },
  h("div", { className: "case-line" },
    h("span", { className: `badge ch-${type || "unknown"}`, text: channelName(type) }),
    h("span", { className: "case-name", text: ctx.names.get(thread.customer_id)
      || `Customer ${thread.customer_id}` }),
    unread > 0 ? h("span", { className: "unread", text: String(unread),
      "aria-label": `${unread} unread` }) : null,
    h("span", { className: "sla", dataset: { sla: "1" }, text: left.text })),
  h("div", { className: "case-line minor" },
    priority && priority !== "normal"
      ? h("span", { className: `prio prio-${priority}`, text: priority }) : null,
    h("span", { className: `status st-${thread.status}`, text: thread.status }),
    team ? h("span", { className: "team", text: team }) : null,
    h("span", { className: "who", text: who(thread, ctx) }),
    thread.queue_position ? h("span", { className: "queue",
      text: `#${thread.queue_position} in queue` }) : null,
    ...(thread.tags || []).slice(0, 3).map((tag) => h("span", { className: "tag", text: tag }))));
}

export function renderInbox(list, threads, ctx) {
  const fragment = document.createDocumentFragment();
  for (const thread of threads) fragment.append(row(thread, ctx));
  list.replaceChildren(fragment);
}

// Once a second: the time left on every row, and red once breached.
export function tickInbox(list, byId, now = Date.now()) {
  for (const item of list.children) {
    const thread = byId.get(Number(item.dataset.id));
    if (!thread) continue;
    const left = timeLeft(thread.case, now);
    setText(item.querySelector("[data-sla]"), left.text);
    item.classList.toggle("breached", left.breached);
  }
}
