// Words and numbers as an agent reads them: time left, channel names, times of day.

export const CHANNEL_NAMES = {
  whatsapp: "WhatsApp", telegram: "Telegram", email: "E-mail", webchat: "Web chat", api: "API",
};

export function channelName(type) {
  return CHANNEL_NAMES[type] || type || "unknown";
}

export function duration(seconds) {
  const s = Math.abs(Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours}h ${m % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

// The SLA moment that matters now for a case: the earliest unmet due time.
export function slaDue(kase) {
  const sla = kase?.sla;
  if (!sla) return null;
  const dues = [];
  if (!kase.first_response_at && sla.first_response_due_at) dues.push(sla.first_response_due_at);
  if (kase.first_response_at && sla.next_response_due_at) dues.push(sla.next_response_due_at);
  if (sla.resolution_due_at) dues.push(sla.resolution_due_at);
  const times = dues.map((d) => Date.parse(d)).filter((t) => !Number.isNaN(t));
  const due = times.length ? Math.min(...times) : null;
  return { due, paused: Boolean(sla.paused), breaches: sla.breaches || [] };
}

// "12m left", "overdue 3m", "paused": and whether the row is breached.
export function timeLeft(kase, now = Date.now()) {
  const sla = slaDue(kase);
  if (!sla) return { text: "", breached: false };
  const breached = sla.breaches.length > 0 || (sla.due !== null && sla.due <= now && !sla.paused);
  if (sla.paused) return { text: "paused", breached };
  if (sla.due === null) return { text: breached ? "breached" : "", breached };
  const left = (sla.due - now) / 1000;
  return { text: left > 0 ? `${duration(left)} left` : `overdue ${duration(left)}`, breached };
}

export function clock(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  const today = new Date().toDateString() === date.toDateString();
  return today
    ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : date.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit",
      minute: "2-digit" });
}

export const TICKS = {
  received: ["", "received"], queued: ["🕓", "queued"], sent: ["✓", "sent"],
  delivered: ["✓✓", "delivered"], read: ["✓✓", "read"], failed: ["⚠", "failed"],
};

export function percent(rate) {
  return rate === null || rate === undefined ? "–" : `${Math.round(rate * 100)} %`;
}
