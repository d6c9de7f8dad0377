// A chat's page: a period (7/30/90 days or custom, in the chat's zone), KPI cards, the time
// series, the heatmap, the group reports (groups.js), the users table and the retention
// triangle, each from the JSON API;
// and the settings editor, which shows what a retention change would delete before saving.
"use strict";

(() => {
  const chatId = document.body.dataset.chatId;
  const base = `/api/chats/${encodeURIComponent(chatId)}`;
  const $ = (id) => document.getElementById(id);
  const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
  const KPIS = ["messages", "active_users", "dau", "wau", "mau", "new_members", "left_members"];
  const PAGE_SIZE = 20;
  const state = { timezone: "UTC", from: null, to: null, page: 1 };

  function todayIn(timezone) {
    return new Intl.DateTimeFormat("en-CA", { timeZone: timezone }).format(new Date());
  }

  function addDays(isoDay, days) {
    const day = new Date(`${isoDay}T00:00:00Z`);
    day.setUTCDate(day.getUTCDate() + days);
    return day.toISOString().slice(0, 10);
  }

  function periodQuery() {
    return `from=${state.from}&to=${state.to}`;
  }

  function lastDays(days) {
    state.to = todayIn(state.timezone);
    state.from = addDays(state.to, 1 - days);
  }

  async function loadKpis() {
    const summary = await Tally.api(`${base}/summary?${periodQuery()}`);
    for (const key of KPIS) {
      const card = $(`kpi-${key}`);
      const figure = summary[key];
      card.querySelector(".value").textContent = Tally.number(figure.value);
      const pct = figure.change_pct === null ? "new" : `${figure.change_pct > 0 ? "+" : ""}${figure.change_pct}%`;
      card.querySelector(".change").textContent = `${pct} vs ${Tally.number(figure.previous)}`;
    }
  }

  function bucketLabel(start, bucket) {
    return bucket === "hour" ? `${start.slice(0, 16).replace("T", " ")} ${start.slice(19)}` : start.slice(0, 10);
  }

  async function loadSeries() {
    const metric = $("metric").value;
    const bucket = $("bucket").value;
    const series = await Tally.api(`${base}/timeseries?${periodQuery()}&metric=${metric}&bucket=${bucket}`);
    const x = series.points.map((point) => bucketLabel(point.start, bucket));
    const traces =
      metric === "members"
        ? [
            { type: "bar", name: "joins", x, y: series.points.map((p) => p.joins) },
            { type: "bar", name: "leaves", x, y: series.points.map((p) => -p.leaves) },
            { type: "scatter", name: "net", x, y: series.points.map((p) => p.value) },
          ]
        : [{ type: "bar", name: metric, x, y: series.points.map((p) => p.value) }];
    Plotly.react("timeseries", traces, {
      barmode: "relative",
      margin: { t: 10, r: 10, b: 60, l: 50 },
      xaxis: { type: "category" },
    }, { displaylogo: false, responsive: true });
  }

  async function loadHeatmap() {
    const heatmap = await Tally.api(`${base}/heatmap?${periodQuery()}`);
    const hours = [...Array(24).keys()].map((h) => `${String(h).padStart(2, "0")}:00`);
    Plotly.react("heatmap", [{ type: "heatmap", z: heatmap.cells, x: hours, y: WEEKDAYS, colorscale: [[0, "#f8fafc"], [1, "#1d4ed8"]] }], {
      margin: { t: 10, r: 10, b: 40, l: 50 },
      yaxis: { autorange: "reversed" },
    }, { displaylogo: false, responsive: true });
  }

  function userName(user) {
    const name = [user.first_name, user.last_name].filter(Boolean).join(" ");
    if (user.username) return name ? `${name} (@${user.username})` : `@${user.username}`;
    return name || `user ${user.user_id}`;
  }

  async function loadUsers() {
    const params = new URLSearchParams({ from: state.from, to: state.to, page: state.page, size: PAGE_SIZE, sort: $("sort").value });
    if ($("search").value.trim()) params.set("search", $("search").value.trim());
    const page = await Tally.api(`${base}/users?${params}`);
    const body = document.querySelector("#users tbody");
    body.replaceChildren();
    for (const user of page.items) {
      const row = document.createElement("tr");
      row.dataset.userId = user.user_id;
      Tally.cell(row, userName(user), "name");
      Tally.cell(row, String(user.user_id), "user-id");
      Tally.cell(row, Tally.number(user.messages), "num messages");
      Tally.cell(row, Tally.number(user.active_days), "num active-days");
      Tally.cell(row, user.last_seen, "last-seen");
      body.appendChild(row);
    }
    const pages = Math.max(1, Math.ceil(page.total / PAGE_SIZE));
    $("page-label").textContent = `page ${page.page} of ${pages} (${Tally.number(page.total)} users)`;
    $("prev").disabled = page.page <= 1;
    $("next").disabled = page.page >= pages;
  }

  async function loadRetention() {
    const retention = await Tally.api(`${base}/retention?${periodQuery()}&weeks=8`);
    const head = document.querySelector("#retention thead");
    const body = document.querySelector("#retention tbody");
    const header = document.createElement("tr");
    for (const title of ["Week", "Users", ...[...Array(retention.weeks + 1).keys()].map((k) => `+${k}`)]) {
      const th = document.createElement("th");
      th.textContent = title;
      header.appendChild(th);
    }
    head.replaceChildren(header);
    body.replaceChildren();
    for (const cohort of retention.cohorts) {
      const row = document.createElement("tr");
      Tally.cell(row, cohort.week);
      Tally.cell(row, Tally.number(cohort.size), "num");
      cohort.shares.forEach((share, k) => {
        const td = Tally.cell(row, `${Math.round(share * 100)}%`, "num share");
        td.title = `${cohort.active[k]} of ${cohort.size}`;
        td.style.backgroundColor = `rgba(37, 99, 235, ${0.1 + share * 0.8})`;
      });
      body.appendChild(row);
    }
  }

  async function loadAll() {
    $("from").value = state.from;
    $("to").value = state.to;
    $("period-label").textContent = `Period ${state.from} – ${state.to}.`;
    state.page = 1;
    await Promise.all([loadKpis(), loadSeries(), loadHeatmap(), loadUsers(), loadRetention(), TallyGroups.load(base, periodQuery())]);
  }

  function showSettings(settings) {
    $("setting-timezone").value = settings.timezone;
    $("setting-store-text").checked = settings.store_text;
    $("setting-retention").value = settings.retention_days ?? "";
  }

  function wantedSettings() {
    const days = $("setting-retention").value.trim();
    return {
      timezone: $("setting-timezone").value.trim(),
      store_text: $("setting-store-text").checked,
      retention_days: days === "" ? null : Number(days),
    };
  }

  async function previewRetention() {
    const days = wantedSettings().retention_days;
    if (days === null) {
      $("retention-preview").textContent = "Raw data is kept for ever: nothing is deleted.";
      return;
    }
    if (!Number.isInteger(days) || days < 1) {
      $("retention-preview").textContent = "Give a whole number of days (1 or more), or leave it empty.";
      return;
    }
    const preview = await Tally.api(`${base}/retention/preview?days=${days}`);
    const counts = `${Tally.number(preview.messages)} messages, ${Tally.number(preview.member_events)} member events and ${Tally.number(preview.reactions)} reactions`;
    $("retention-preview").textContent =
      `Keeping ${days} days deletes ${counts} from before ${preview.cutoff.slice(0, 16).replace("T", " ")} UTC (daily totals stay).`;
  }

  async function saveSettings() {
    $("settings-status").textContent = "Saving…";
    const saved = await Tally.api(`${base}/settings`, { method: "PUT", body: wantedSettings() });
    showSettings(saved);
    $("settings-status").textContent = "Saved: ingest applies it within moments.";
  }

  function run(task) {
    task().catch((error) => Tally.showError(String(error.message || error)));
  }

  Tally.start(async () => {
    const chat = await Tally.api(base);
    if (chat.title) $("chat-title").textContent = chat.title;
    state.timezone = chat.settings.timezone;
    $("chat-timezone").textContent = chat.settings.timezone;
    showSettings(chat.settings);
    lastDays(30);
    await Promise.all([loadAll(), previewRetention()]);
  });

  document.querySelectorAll("#period [data-days]").forEach((button) =>
    button.addEventListener("click", () => {
      lastDays(Number(button.dataset.days));
      run(loadAll);
    }),
  );
  $("apply").addEventListener("click", () => {
    if (!$("from").value || !$("to").value) return;
    state.from = $("from").value;
    state.to = $("to").value;
    run(loadAll);
  });
  if (Intl.supportedValuesOf) {
    $("timezones").replaceChildren(...Intl.supportedValuesOf("timeZone").map((zone) => new Option(zone)));
  }
  $("setting-retention").addEventListener("change", () => run(previewRetention));
  $("settings-form").addEventListener("submit", (event) => {
    event.preventDefault();
    run(saveSettings);
  });
  $("metric").addEventListener("change", () => run(loadSeries));
  $("bucket").addEventListener("change", () => run(loadSeries));
  $("sort").addEventListener("change", () => { state.page = 1; run(loadUsers); });
  $("search").addEventListener("change", () => { state.page = 1; run(loadUsers); });
  $("prev").addEventListener("click", () => { state.page -= 1; run(loadUsers); });
  $("next").addEventListener("click", () => { state.page += 1; run(loadUsers); });
})();
