// The reply box: which channel the reply goes out on, whether that channel's reply window is
// open (WhatsApp's 24 hours), a template when it is not, and internal notes.

import { api, ApiError } from "./api.js";
import { $, h, clear, setText } from "./dom.js";
import { channelName, clock } from "./format.js";

export class Composer {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.thread = null;
    this.picker = $("#channel-pick", root);
    this.state = $("#window-state", root);
    this.template = $("#template-pick", root);
    this.text = $("#reply-text", root);
    this.note = $("#note-toggle", root);
    this.error = $("#composer-error", root);
    this.picker.addEventListener("change", () => this.showWindow());
    this.note.addEventListener("change", () => this.showWindow());
    root.addEventListener("submit", (event) => { event.preventDefault(); this.send(); });
    this.text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        this.send();
      } else if (event.key === "Escape") {
        this.text.blur();
      }
    });
  }

  // The channels this customer can be reached on, the latest inbound one first and chosen.
  show(thread, customer) {
    this.thread = thread;
    this.customer = customer;
    clear(this.picker);
    const ids = [];
    const latest = thread.last_inbound_channel_id;
    if (latest) ids.push(latest);
    for (const identity of customer?.identities || []) {
      if (identity.channel_id && !ids.includes(identity.channel_id)) ids.push(identity.channel_id);
    }
    for (const id of ids) {
      const type = this.ctx.channels.get(id);
      const name = this.ctx.channelNames.get(id);
      this.picker.append(h("option", { value: id,
        text: `${channelName(type)}${name ? ` · ${name}` : ""}${id === latest ? " (latest)" : ""}` }));
    }
    if (latest) this.picker.value = latest;
    setText(this.error, "");
    this.showWindow();
  }

  window() {
    const id = this.picker.value;
    const windows = [...(this.thread?.reply_windows || []), ...(this.customer?.reply_windows || [])];
    return windows.find((w) => w.channel_id === id) || null;
  }

  async showWindow() {
    const window = this.window();
    this.template.hidden = true;
    this.state.className = "window";
    if (this.note.checked) {
      setText(this.state, "Internal note: the customer will not see it");
      this.state.classList.add("note");
      this.text.placeholder = "Internal note";
      return;
    }
    this.text.placeholder = "Reply (r) — Ctrl+Enter sends";
    if (!window) { setText(this.state, ""); return; }
    const type = channelName(this.ctx.channels.get(window.channel_id));
    if (window.open) {
      setText(this.state, `${type} window open until ${clock(window.closes_at)}`);
      this.state.classList.add("open");
      return;
    }
    setText(this.state, `${type} 24-hour window closed: a template is required`);
    this.state.classList.add("closed");
    await this.loadTemplates(window.channel_id);
  }

  async loadTemplates(channelId) {
    clear(this.template);
    this.template.append(h("option", { value: "", text: "Choose a template…" }));
    try {
      const page = await api(`/v1/channels/${encodeURIComponent(channelId)}/templates`);
      for (const t of page.items) {
        this.template.append(h("option", { value: JSON.stringify([t.name, t.language]),
          text: `${t.name} (${t.language})` }));
      }
    } catch (error) {
      this.template.append(h("option", { value: "", disabled: true,
        text: `templates unavailable: ${error.message}` }));
    }
    this.template.hidden = false;
  }

  // No case open: nothing to send to.
  reset() {
    this.thread = null;
    this.customer = null;
    clear(this.picker);
    setText(this.state, "");
    this.template.hidden = true;
  }

  focus() { this.text.focus(); }

  async send() {
    if (!this.thread) return;
    const text = this.text.value.trim();
    const body = { text, internal: this.note.checked };
    if (!this.note.checked && this.picker.value) body.channel_id = this.picker.value;
    if (!this.template.hidden && this.template.value) {
      const [name, language] = JSON.parse(this.template.value);
      body.template = { name, language };
    }
    if (!text && !body.template) return;
    setText(this.error, "");
    try {
      const message = await api(`/v1/threads/${this.thread.id}/messages`,
        { method: "POST", body });
      this.text.value = "";
      this.note.checked = false;
      this.showWindow();
      this.ctx.onSent(message);
    } catch (error) {
      setText(this.error, error instanceof ApiError ? error.message : String(error));
    }
  }
}
