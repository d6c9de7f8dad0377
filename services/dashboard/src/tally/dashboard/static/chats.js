// The chat list: GET /api/chats, one row per chat with its last 30 days.
"use strict";

Tally.start(async () => {
  const chats = await Tally.api("/api/chats");
  const body = document.querySelector("#chats tbody");
  body.replaceChildren();
  document.getElementById("no-chats").hidden = chats.length > 0;
  for (const chat of chats) {
    const row = document.createElement("tr");
    row.dataset.chatId = chat.chat_id;
    const link = document.createElement("a");
    link.href = `/chats/${encodeURIComponent(chat.chat_id)}`;
    link.textContent = chat.title || `Chat ${chat.chat_id}`;
    Tally.cell(row, "").appendChild(link);
    Tally.cell(row, String(chat.chat_id));
    Tally.cell(row, chat.settings.timezone);
    Tally.cell(row, Tally.number(chat.last_30_days.messages), "num messages");
    Tally.cell(row, Tally.number(chat.last_30_days.active_users), "num active-users");
    body.appendChild(row);
  }
});
