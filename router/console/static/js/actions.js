// Case actions that change who holds the case: transfer (to a team, another line, an agent)
// with a reason, and the presence the agent shows.

import { api } from "./api.js";
import { $, h, clear, setText } from "./dom.js";

export class TransferDialog {
  constructor(dialog, ctx) {
    this.dialog = dialog;
    this.ctx = ctx;
    this.team = $("#transfer-team", dialog);
    this.agent = $("#transfer-agent", dialog);
    this.reason = $("#transfer-reason", dialog);
    this.error = $("#transfer-error", dialog);
    this.team.addEventListener("change", () => this.fillAgents());
    $("#transfer-cancel", dialog).addEventListener("click", () => dialog.close());
    $("#transfer-form", dialog).addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  open(thread) {
    this.thread = thread;
    clear(this.team);
    this.team.append(h("option", { value: "", text: "Keep the team" }));
    const teams = [...this.ctx.teams.values()].sort((a, b) => a.line - b.line
      || a.name.localeCompare(b.name));
    for (const team of teams) {
      this.team.append(h("option", { value: team.id, text: `Line ${team.line} · ${team.name}` }));
    }
    this.reason.value = "";
    setText(this.error, "");
    this.fillAgents();
    this.dialog.showModal();
    this.team.focus();
  }

  fillAgents() {
    clear(this.agent);
    this.agent.append(h("option", { value: "", text: "Anyone available" }));
    const team = this.ctx.teams.get(Number(this.team.value));
    for (const [id, name] of this.ctx.agents) {
      if (team && !(team.member_ids || []).includes(id)) continue;
      this.agent.append(h("option", { value: id, text: id === this.ctx.meId ? `${name} (me)` : name }));
    }
  }

  async submit() {
    const body = { reason: this.reason.value.trim() };
    if (this.team.value) body.team_id = Number(this.team.value);
    if (this.agent.value) body.agent_id = Number(this.agent.value);
    if (!body.reason) { setText(this.error, "Say why (the next line reads it)."); return; }
    if (!body.team_id && !body.agent_id) {
      setText(this.error, "Choose a team or an agent."); return;
    }
    try {
      const thread = await api(`/v1/threads/${this.thread.id}/transfer`, { method: "POST", body });
      this.dialog.close();
      this.ctx.onTransferred(thread);
    } catch (error) {
      setText(this.error, error.message);
    }
  }
}

export async function setPresence(status) {
  return api("/v1/agents/me/presence", { method: "PUT", body: { status } });
}
