// Live events over SSE. EventSource cannot send a header, so the key buys a one-minute ticket
// (POST /v1/events/ticket) and the stream opens with ?ticket=; a key never goes in a URL. A
// server without tickets gets the same stream read through fetch() with the header instead.

import { api, ApiError, session } from "./api.js";

const TYPES = [
  "message.created", "message.updated", "message.status", "thread.updated", "customer.merged",
  "customer.updated", "case.opened", "case.reopened", "case.assigned", "case.queued",
  "case.transferred", "case.resolved", "case.updated", "sla.warning", "sla.breached",
  "csat.received", "agent.presence", "stream.reset",
];

export class LiveEvents {
  constructor(onEvent, onState) {
    this.onEvent = onEvent;
    this.onState = onState;
    this.lastId = null;
    this.source = null;
    this.abort = null;
    this.retry = 1000;
    this.stopped = false;
  }

  start() {
    this.stopped = false;
    this.open();
  }

  stop() {
    this.stopped = true;
    this.source?.close();
    this.abort?.abort();
  }

  deliver(type, raw, id) {
    if (id) this.lastId = id;
    let event;
    try { event = JSON.parse(raw); } catch { return; }
    this.onEvent(event.type || type, event.data || {}, event);
  }

  async open() {
    if (this.stopped) return;
    let ticket = null;
    try {
      ticket = (await api("/v1/events/ticket", { method: "POST" })).ticket;
    } catch (error) {
      if (!(error instanceof ApiError) || ![404, 405].includes(error.status)) {
        return this.again(error);
      }
    }
    if (ticket) this.openSource(ticket); else this.openFetch();
  }

  again(error) {
    this.onState("reconnecting", error);
    if (this.stopped) return;
    setTimeout(() => this.open(), this.retry);
    this.retry = Math.min(this.retry * 2, 15_000);
  }

  openSource(ticket) {
    const params = new URLSearchParams({ ticket });
    if (this.lastId) params.set("since", this.lastId);
    const source = new EventSource(`/v1/events?${params}`);
    this.source = source;
    source.onopen = () => { this.retry = 1000; this.onState("live"); };
    // The ticket is spent after a minute: every reconnect asks for a fresh one.
    source.onerror = () => { source.close(); this.again(); };
    for (const type of TYPES) {
      source.addEventListener(type, (e) => this.deliver(type, e.data, e.lastEventId));
    }
  }

  async openFetch() {
    const controller = new AbortController();
    this.abort = controller;
    const headers = { Authorization: `Bearer ${session.key}`, Accept: "text/event-stream" };
    if (this.lastId) headers["Last-Event-ID"] = this.lastId;
    try {
      const response = await fetch("/v1/events", { headers, signal: controller.signal });
      if (!response.ok) throw new ApiError(response.status, null);
      this.retry = 1000;
      this.onState("live");
      await this.read(response.body.getReader());
      this.again();
    } catch (error) {
      if (!this.stopped) this.again(error);
    }
  }

  async read(reader) {
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let type = "message"; let id = null; const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) type = line.slice(7);
          else if (line.startsWith("id: ")) id = line.slice(4);
          else if (line.startsWith("data: ")) data.push(line.slice(6));
        }
        if (data.length) this.deliver(type, data.join("\n"), id);
      }
    }
  }
}
