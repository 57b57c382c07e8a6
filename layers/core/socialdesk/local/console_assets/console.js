// The local console. Every few seconds it reads /console/state.json (and the opened conversation's
// /console/thread.json) and patches the page in place: never a reload, so the scroll position, the
// focus and the opened thread stay where the operator left them. Customer text is hostile: every
// value goes into the page as text (textContent, text nodes), never as markup.
"use strict";

(() => {
  const REFRESH_MS = Number(document.body.dataset.refreshMs) || 2000;
  const COLUMNS = ["platform", "customer", "messages", "last_message", "ticket", "salesforce_activities", "brand_replies", "clock", "sla"];
  const SECONDARY = ["salesforce_activities", "brand_replies"]; // hidden beside an open thread, which shows them
  const HELD = ["quarantined", "deferred", "dead_lettered"];
  const KIND_LABELS = {
    customer: "customer",
    brand: "brand reply",
    warning: "warning",
    context: "social context",
    note: "internal note",
    automated: "automated, sent to the customer",
    agent: "agent's public comment in Zendesk",
    delivered: "sent to the customer on the platform",
  };
  const CHANNELS = { public_reply: "public reply", private_reply: "private reply", direct_message: "direct message" };
  const byId = (id) => document.getElementById(id);
  let openKey = new URLSearchParams(location.hash.slice(1)).get("conversation");
  let shownState = "";
  let shownThread = "";

  function element(tag, className, ...children) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    node.append(...children.filter((child) => child !== null)); // strings become text nodes
    return node;
  }

  function setText(node, text) {
    if (node.textContent !== text) node.textContent = text;
  }

  function time(iso) {
    return iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }) : "";
  }

  function renderMeta(state) {
    const count = state.conversations.length;
    const simulated = state.simulated ? ` (simulated, ${state.simulated} ahead)` : "";
    setText(byId("meta"), `${state.backends} · clock ${state.clock}${simulated} · ${count} conversation${count === 1 ? "" : "s"} · updates live`);
  }

  function renderHeld(name, held) {
    const box = byId(`held-${name}`);
    setText(box.querySelector(".count"), String(held.count));
    box.classList.toggle("some", held.count > 0);
    box.querySelector("ul").replaceChildren(
      ...held.reasons.map((reason) =>
        element(
          "li",
          "",
          element("span", "times", `${reason.count} × `),
          element("span", "reason", reason.reason),
          reason.detail !== reason.reason ? element("span", "detail", reason.detail) : null,
        ),
      ),
    );
  }

  function renderRows(rows) {
    const body = byId("rows");
    const existing = new Map([...body.children].map((row) => [row.dataset.key, row]));
    rows.forEach((data, index) => {
      let row = existing.get(data.key);
      if (row === undefined) {
        row = element("tr", "", ...COLUMNS.map((column) => element("td", SECONDARY.includes(column) ? "secondary" : "")));
        row.dataset.key = data.key;
        row.tabIndex = 0;
      }
      existing.delete(data.key);
      COLUMNS.forEach((column, cell) => setText(row.children[cell], String(data[column])));
      row.children[1].title = data.customers.join(", ");
      row.children[7].className = data.waiting_minutes === null ? "answered" : "waiting";
      row.children[8].className = data.sla.startsWith("breached") || data.sla.startsWith("overdue") ? "waiting" : "";
      row.classList.toggle("open", data.key === openKey);
      row.setAttribute("aria-selected", String(data.key === openKey));
      if (body.children[index] !== row) body.insertBefore(row, body.children[index] || null);
    });
    for (const gone of existing.values()) gone.remove();
    byId("conversations").hidden = rows.length === 0;
    byId("empty").hidden = rows.length !== 0;
    byId("hint").hidden = rows.length === 0 || openKey !== null;
  }

  function renderState(state) {
    renderMeta(state);
    HELD.forEach((name) => renderHeld(name, state[name]));
    renderRows(state.conversations);
  }

  function entryItem(entry) {
    const where = entry.kind === "automated" || entry.kind === "delivered"
      ? ` · ${CHANNELS[entry.channel] || entry.channel} · message id ${entry.message_id}${entry.ticket ? ` · #${entry.ticket}` : ""}`
      : ` · #${entry.ticket}`;
    return element(
      "li",
      `entry ${entry.kind}`,
      element("p", "said", element("strong", "", entry.author), ` · ${KIND_LABELS[entry.kind] || entry.kind} · ${time(entry.at)}${where}`),
      element("p", "text", entry.text),
    );
  }

  function activityItem(activity) {
    const link = activity.permalink && /^https?:\/\//.test(activity.permalink) ? element("a", "", "on the platform") : null;
    if (link) {
      link.href = activity.permalink;
      link.rel = "noreferrer noopener";
      link.target = "_blank";
    }
    return element(
      "li",
      "activity",
      element("p", "said", element("strong", "", activity.subject)),
      element("p", "detail", `Task ${activity.id} on ${activity.contact} · ${time(activity.at)}`, link ? " · " : null, link),
      element("p", "text", activity.text),
    );
  }

  // The agent's reply form (the sandbox helpdesk's agent): kept across the thread's refreshes, with what was typed.
  const replyForm = (() => {
    const text = element("textarea", "reply-text");
    text.rows = 3;
    text.placeholder = "Reply as an agent in Zendesk (public comment)";
    const privately = element("input", "");
    privately.type = "checkbox";
    const send = element("button", "reply-send", "Reply");
    send.type = "submit";
    const said = element("span", "reply-status");
    const form = element("form", "reply", text, element("label", "", privately, " privately (socialdesk_private)"), send, said);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!text.value.trim() || !form.dataset.ticket) return;
      setText(said, "sending…");
      const body = JSON.stringify({ ticket: Number(form.dataset.ticket), text: text.value, private: privately.checked });
      try {
        const response = await fetch("/console/reply", { method: "POST", headers: { "content-type": "application/json" }, body });
        const answer = await response.json();
        setText(said, response.ok ? `comment ${answer.comment_id} sent to Zendesk's webhook (${answer.webhook_status})` : answer.error || `failed (${response.status})`);
        if (response.ok) text.value = "";
      } catch {
        setText(said, "the local stack did not answer");
      }
    });
    return form;
  })();

  function renderThread(thread) {
    const panel = byId("thread");
    const latest = thread.tickets[thread.tickets.length - 1];
    replyForm.dataset.ticket = latest ? String(latest.id) : "";
    const tickets = thread.tickets.map((ticket) => `#${ticket.id} ${ticket.status}${ticket.follow_up_of ? ` (follow-up of #${ticket.follow_up_of})` : ""}`);
    const close = element("button", "close", "Close");
    close.type = "button";
    close.addEventListener("click", () => open(null));
    const scrolled = panel.scrollTop;
    panel.replaceChildren(
      element("header", "", element("h2", "", `${thread.platform} · ${thread.customers.join(", ") || "—"}`), close),
      element("p", "meta", `Ticket ${tickets.join(" · ") || "not opened yet"} · ${thread.clock}`),
      element("h3", "", `Messages and notes (${thread.entries.length})`),
      thread.entries.length ? element("ol", "entries", ...thread.entries.map(entryItem)) : element("p", "none", "Nothing on a ticket yet."),
      element("h3", "", `Salesforce activities (${thread.activities.length})`),
      thread.activities.length ? element("ol", "activities", ...thread.activities.map(activityItem)) : element("p", "none", "None yet."),
      latest ? element("h3", "", `Reply on #${latest.id}`) : null,
      latest ? replyForm : null,
    );
    panel.scrollTop = scrolled;
  }

  function renderMissing() {
    const close = element("button", "close", "Close");
    close.type = "button";
    close.addEventListener("click", () => open(null));
    byId("thread").replaceChildren(element("header", "", element("h2", "", "Conversation not found"), close));
  }

  async function refreshThread() {
    const key = openKey;
    const response = await fetch(`/console/thread.json?${new URLSearchParams({ key })}`, { cache: "no-store" });
    const text = await response.text();
    if (key !== openKey || text === shownThread) return;
    shownThread = text;
    if (response.ok) renderThread(JSON.parse(text));
    else renderMissing();
  }

  function open(key) {
    openKey = key;
    shownThread = "";
    history.replaceState(null, "", key === null ? location.pathname : `#${new URLSearchParams({ conversation: key })}`);
    byId("thread").hidden = key === null;
    byId("main").classList.toggle("with-thread", key !== null);
    for (const row of byId("rows").children) {
      row.classList.toggle("open", row.dataset.key === key);
      row.setAttribute("aria-selected", String(row.dataset.key === key));
    }
    byId("hint").hidden = key !== null || byId("rows").children.length === 0;
    if (key !== null) refreshThread().catch(showTrouble);
  }

  function showTrouble() {
    setText(byId("status"), "· the local stack is not answering; trying again");
  }

  async function refresh() {
    try {
      const response = await fetch("/console/state.json", { cache: "no-store" });
      const text = await response.text();
      if (!response.ok) throw new Error(`state.json answered ${response.status}`);
      if (text !== shownState) {
        shownState = text;
        renderState(JSON.parse(text));
      }
      if (openKey !== null) await refreshThread();
      setText(byId("status"), "");
    } catch {
      showTrouble();
    } finally {
      setTimeout(refresh, REFRESH_MS);
    }
  }

  const rows = byId("rows");
  rows.addEventListener("click", (event) => {
    const row = event.target.closest("tr");
    if (row) open(row.dataset.key);
  });
  rows.addEventListener("keydown", (event) => {
    const row = event.target.closest("tr");
    if (row && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      open(row.dataset.key);
    }
  });
  open(openKey);
  refresh();
})();
