// Shared by the dashboard pages: the admin token, API calls, number formatting.
// The token lives in sessionStorage (this tab only) and travels as X-Admin-Token; a chat
// admin's signed link travels as an HttpOnly cookie the page's own requests carry, so a
// linked page needs no token (and its address loses the link once loaded). Data is put into
// the page with textContent, never as HTML.
"use strict";

const Tally = (() => {
  const KEY = "tally.adminToken";
  const tokenRequired = document.body.dataset.tokenRequired === "true";
  const chatLink = document.body.dataset.chatLink === "true";
  const loginForm = document.getElementById("login");
  const logout = document.getElementById("logout");
  const errorBox = document.getElementById("error");
  let onReady = () => {};

  class Unauthorized extends Error {}

  function token() {
    return sessionStorage.getItem(KEY);
  }

  function showLogin() {
    loginForm.hidden = false;
    logout.hidden = true;
    document.getElementById("token").focus();
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  function detailOf(body) {
    return typeof body.detail === "string"
      ? body.detail
      : body.detail.map((problem) => problem.msg).join("; ");
  }

  // GET (or, given a body, `method` with it as JSON) and the JSON answer; throws on a refusal.
  async function api(path, { method = "GET", body } = {}) {
    const headers = { Accept: "application/json" };
    if (token()) headers["X-Admin-Token"] = token();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const init = { method, headers, body: body === undefined ? undefined : JSON.stringify(body) };
    const response = await fetch(path, init);
    if (response.status === 401 && !chatLink) {
      sessionStorage.removeItem(KEY);
      showLogin();
      throw new Unauthorized("Wrong or missing admin token.");
    }
    const answer = await response.json();
    if (!response.ok) throw new Error(`${response.status}: ${detailOf(answer)}`);
    return answer;
  }

  function start(load) {
    onReady = async () => {
      showError("");
      try {
        await load();
      } catch (error) {
        if (!(error instanceof Unauthorized)) showError(String(error.message || error));
      }
    };
    if (tokenRequired && !token() && !chatLink) {
      showLogin();
      return;
    }
    logout.hidden = !tokenRequired || !token();
    onReady();
  }

  loginForm.addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, document.getElementById("token").value);
    loginForm.reset();
    loginForm.hidden = true;
    logout.hidden = false;
    onReady();
  });

  if (chatLink && new URLSearchParams(location.search).has("link")) {
    history.replaceState(null, "", location.pathname);
  }

  logout.addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    location.reload();
  });

  function number(value) {
    return Number(value).toLocaleString("en-US", { maximumFractionDigits: 2 });
  }

  function cell(row, text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  return { api, start, number, cell, showError, chatLink };
})();
