// A chat page's group reports, for the page's period: message types and entities, top
// hashtags, reactions, replies, topics, member count, joins and leaves, top members and top
// words, each from its route of the JSON API (the chat store's reports, as Telegram shows them).
// chat.js calls TallyGroups.load(base, query) whenever the period changes.
"use strict";

const TallyGroups = (() => {
  const $ = (id) => document.getElementById(id);
  const PLOT = { displaylogo: false, responsive: true };
  let current = { base: "", query: "" };

  // True when the period changed while an answer for `query` was on its way: drop it.
  function stale(query) {
    return query !== current.query;
  }

  // Rows of [text, className] cells into the table's body; `empty` when there are none.
  function fill(tableId, rows, empty) {
    const body = document.querySelector(`#${tableId} tbody`);
    body.replaceChildren();
    for (const cells of rows) {
      const row = document.createElement("tr");
      for (const [text, className] of cells) Tally.cell(row, text, className);
      body.appendChild(row);
    }
    if (rows.length === 0) {
      const row = document.createElement("tr");
      Tally.cell(row, empty, "muted").colSpan = document.querySelectorAll(`#${tableId} thead th`).length;
      body.appendChild(row);
    }
  }

  function counted(items) {
    return items.map((item) => [[item.member.label, "name"], [Tally.number(item.count), "num count"]]);
  }

  function figure(id, value) {
    $(id).textContent = value === null ? "–" : Tally.number(value);
  }

  async function loadContent(base, query) {
    const content = await Tally.api(`${base}/content?${query}`);
    if (stale(query)) return;
    for (const key of ["messages", "links", "mentions", "hashtags", "forwards", "replies"]) {
      figure(`content-${key}`, content[key]);
    }
    const types = content.by_type;
    Plotly.react("message-types", [{
      type: "bar", x: types.map((t) => t.message_type), y: types.map((t) => t.messages),
    }], { margin: { t: 10, r: 10, b: 40, l: 50 }, xaxis: { type: "category" } }, PLOT);
    $("hashtags-note").hidden = content.text_stored;
    $("hashtags").hidden = !content.text_stored;
    fill("hashtags", (content.top_hashtags ?? []).map((tag) => [[`#${tag.tag}`, "tag"], [Tally.number(tag.count), "num count"]]), "No hashtags in this period.");
  }

  async function loadReactions(base, query) {
    const reactions = await Tally.api(`${base}/reactions?${query}&limit=10`);
    if (stale(query)) return;
    figure("reactions-total", reactions.total);
    fill("reaction-emoji", reactions.top_emoji.map((e) => [[e.emoji, "emoji"], [Tally.number(e.count), "num count"]]), "No reactions in this period.");
    fill("reactions-received", counted(reactions.received), "Nobody.");
    fill("reactions-given", counted(reactions.given), "Nobody.");
  }

  async function loadReplies(base, query) {
    const replies = await Tally.api(`${base}/replies?${query}&limit=10`);
    if (stale(query)) return;
    figure("replies-count", replies.replies);
    $("replies-share").textContent = `${Tally.number(replies.reply_share * 100)}%`;
    const delay = replies.median_delay_seconds;
    $("replies-median").textContent = delay === null ? "–" : `${Tally.number(delay / 60)} min`;
    $("replies-median").dataset.seconds = delay ?? "";
    fill("reply-pairs", replies.top_pairs.map((pair) => [
      [pair.replier.label, "name"], [pair.replied_to.label, "name"], [Tally.number(pair.replies), "num count"],
    ]), "No replies between members in this period.");
  }

  async function loadTopics(base, query) {
    const activity = await Tally.api(`${base}/topics?${query}`);
    if (stale(query)) return;
    fill("topics", activity.topics.map((topic) => [
      [topic.thread_id === null ? "General" : `Topic ${topic.thread_id}`, "topic"],
      [Tally.number(topic.messages), "num messages"], [Tally.number(topic.members), "num members"],
    ]), "No messages in this period.");
  }

  // The member count on the days with a snapshot (none: the note, never a made-up line).
  function drawMemberCount(points) {
    $("member-count-note").hidden = points.length > 0;
    $("member-count").hidden = points.length === 0;
    if (points.length === 0) return;
    Plotly.react("member-count", [{
      type: "scatter", mode: "lines+markers", name: "members",
      x: points.map((point) => point.day), y: points.map((point) => point.count),
    }], { margin: { t: 10, r: 10, b: 60, l: 50 }, xaxis: { type: "date" } }, PLOT);
  }

  async function loadFlow(base, query) {
    const flow = await Tally.api(`${base}/members/flow?${query}&limit=10`);
    if (stale(query)) return;
    for (const key of ["count_last", "count_change", "joins", "leaves", "via_link", "added", "churned"]) {
      figure(`flow-${key}`, flow[key]);
    }
    drawMemberCount(flow.member_counts);
    const x = flow.days.map((day) => day.day);
    Plotly.react("member-flow", [
      { type: "bar", name: "joins", x, y: flow.days.map((day) => day.joins) },
      { type: "bar", name: "leaves", x, y: flow.days.map((day) => -day.leaves) },
    ], { barmode: "relative", margin: { t: 10, r: 10, b: 60, l: 50 }, xaxis: { type: "category" } }, PLOT);
    fill("inviters", counted(flow.top_inviters), "Nobody added members in this period.");
  }

  async function loadTop(base, query) {
    const top = await Tally.api(`${base}/top?${query}&by=${$("top-by").value}&limit=10`);
    if (stale(query)) return;
    fill("top-members", counted(top.items), "Nobody in this period.");
  }

  async function loadWords(base, query) {
    const words = await Tally.api(`${base}/words?${query}&limit=15`);
    if (stale(query)) return;
    $("words-note").hidden = words.text_stored;
    $("words-note").textContent = words.refusal ?? "";
    for (const language of ["ru", "en"]) {
      $(`words-${language}`).hidden = !words.text_stored;
      fill(`words-${language}`, (words.words[language] ?? []).map((w) => [[w.word, "word"], [Tally.number(w.count), "num count"]]), "No words.");
    }
  }


  // Every report for the period `query` (from=...&to=...) of the chat at `base`.
  function load(base, query) {
    current = { base, query };
    return Promise.all([loadContent, loadReactions, loadReplies, loadTopics, loadFlow, loadTop, loadWords]
      .map((report) => report(base, query)));
  }

  $("top-by").addEventListener("change", () =>
    loadTop(current.base, current.query).catch((error) => Tally.showError(String(error.message || error))));

  return { load };
})();
