// The thread view: the customer's whole history across channels in one column, and beside it
// who the customer is (identities, attributes) and who they might also be (merge suggestions).

import { h, clear, setText } from "./dom.js";
import { channelName, clock, TICKS } from "./format.js";

function size(bytes) {
  if (!bytes) return "";
  return bytes < 1024 ? `${bytes} B` : bytes < 1048576 ? `${Math.round(bytes / 1024)} KB`
    : `${(bytes / 1048576).toFixed(1)} MB`;
}

function tick(message) {
  const [mark, label] = TICKS[message.status] || ["", message.status];
  return h("span", { className: `tick st-${message.status}`, title: label,
    "aria-label": label, dataset: { tick: "1" }, text: mark || label });
}

function attachments(message) {
  if (!message.attachments?.length) return null;
  return h("ul", { className: "files" }, message.attachments.map((file) => h("li", {},
    h("a", { href: "#", dataset: { attachment: file.id, filename: file.filename || "" },
      text: `⬇ ${file.filename || file.mime_type || file.kind || "attachment"}` }),
    file.size ? ` ${size(file.size)}` : "")));
}

export function messageItem(message, ctx) {
  const type = ctx.channels.get(message.channel_id);
  const side = message.direction === "inbound" ? "in"
    : message.direction === "note" ? "note" : "out";
  const author = side === "in" ? ctx.customerName
    : side === "note" ? `Note · ${message.author || "agent"}`
      : message.automatic ? "omniroute" : message.author || "agent";
  return h("li", { className: `msg ${side}`, dataset: { id: message.id } },
    h("div", { className: "msg-head" },
      side !== "note" ? h("span", { className: `badge ch-${type || "unknown"}`,
        text: channelName(type) }) : null,
      h("span", { className: "author", text: author }),
      h("time", { dateTime: message.sent_at, text: clock(message.sent_at) }),
      message.edited ? h("span", { className: "edited", text: "edited" }) : null),
    message.text ? h("p", { className: "msg-text", text: message.text }) : null,
    attachments(message),
    side === "out" ? h("div", { className: "msg-foot" }, tick(message),
      message.error ? h("span", { className: "error", text: message.error }) : null) : null);
}

export function renderHistory(list, messages, ctx) {
  const fragment = document.createDocumentFragment();
  for (const message of messages) fragment.append(messageItem(message, ctx));
  list.replaceChildren(fragment);
}

export function updateTick(list, messageId, status, error) {
  const item = list.querySelector(`li[data-id="${Number(messageId)}"]`);
  const mark = item?.querySelector("[data-tick]");
  if (!mark) return;
  const [symbol, label] = TICKS[status] || ["", status];
  mark.className = `tick st-${status}`;
  mark.title = label;
  mark.setAttribute("aria-label", label);
  setText(mark, symbol || label);
  if (error) item.querySelector(".msg-foot").append(h("span", { className: "error", text: error }));
}

function facts(list, pairs) {
  clear(list);
  for (const [name, value] of pairs) {
    if (value === null || value === undefined || value === "") continue;
    list.append(h("dt", { text: name }), h("dd", { text: String(value) }));
  }
}

export function renderCustomer(root, customer, ctx) {
  setText(root.querySelector("#customer-name"), customer.name || `Customer ${customer.id}`);
  facts(root.querySelector("#customer-facts"), [
    ["Tier", customer.tier], ["Language", customer.language],
    ["Tags", (customer.tags || []).join(", ")], ["Customer", `#${customer.id}`]]);
  const identities = root.querySelector("#identities");
  clear(identities);
  for (const identity of customer.identities || []) {
    identities.append(h("li", { className: identity.verified ? "verified" : "unverified" },
      h("span", { className: "kind", text: identity.kind }), " ",
      h("span", { className: "value", text: identity.value }), " ",
      h("span", { className: "mark", text: identity.verified ? "✓ verified" : "unverified" }),
      identity.channel_id ? h("span", { className: "via",
        text: ` · ${channelName(ctx.channels.get(identity.channel_id))}` }) : null));
  }
  facts(root.querySelector("#attributes"), Object.entries(customer.attributes || {}));
}

export function renderSuggestions(list, suggestions, names, handlers) {
  clear(list);
  if (!suggestions.length) {
    list.append(h("li", { className: "muted", text: "None" }));
    return;
  }
  for (const suggestion of suggestions) {
    const other = suggestion.other_customer_id;
    list.append(h("li", { className: "suggestion", dataset: { suggestion: suggestion.id } },
      h("span", { text: names.get(other) || `Customer ${other}` }),
      h("span", { className: "reason", text: ` — ${suggestion.reason}` }),
      h("span", { className: "buttons" },
        h("button", { type: "button", text: "Merge", onclick: () => handlers.accept(suggestion) }),
        h("button", { type: "button", text: "Dismiss",
          onclick: () => handlers.dismiss(suggestion) }))));
  }
}
