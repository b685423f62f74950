// Merge suggestions beside the thread: merge (with undo, through the API) or dismiss (with
// undo; the API keeps no "dismissed" flag, so this browser remembers it).

import { api, optional } from "./api.js";
import { renderSuggestions } from "./thread.js";

export class Suggestions {
  constructor(list, store, ui) {
    this.list = list;
    this.store = store;
    this.ui = ui;
  }

  async show(customer) {
    if (!customer) return;
    const found = await optional(`/v1/customers/${customer.id}/suggestions`, []).catch(() => []);
    const shown = found.filter((s) => !this.store.dismissed.has(s.id));
    await this.store.fetchNames(shown.map((s) => s.other_customer_id));
    renderSuggestions(this.list, shown, this.store.names, {
      accept: (s) => this.accept(s), dismiss: (s) => this.dismiss(s) });
  }

  async accept(suggestion) {
    try {
      const merge = await api(`/v1/customers/${suggestion.customer_id}/merge`, {
        method: "POST",
        body: { other_customer_id: suggestion.other_customer_id, reason: suggestion.reason } });
      this.ui.toast("Customers merged", { label: "Undo", run: () => this.undo(merge.id) });
      this.ui.changed();
    } catch (error) { this.ui.fail(error); }
  }

  async undo(mergeId) {
    try {
      await api(`/v1/merges/${mergeId}/undo`, { method: "POST" });
      this.ui.toast("Merge undone");
      this.ui.changed();
    } catch (error) { this.ui.fail(error); }
  }

  dismiss(suggestion) {
    this.store.dismiss(suggestion.id);
    this.show(this.store.customer);
    this.ui.toast("Suggestion dismissed", { label: "Undo", run: () => {
      this.store.undismiss(suggestion.id);
      this.show(this.store.customer);
      this.ui.hideToast();
    } });
  }
}
