// Shared by the dashboard pages: the admin token, API calls, number formatting.
// The token lives in sessionStorage (this tab only) and travels as X-Admin-Token; data is
// put into the page with textContent, never as HTML.
"use strict";

const Tally = (() => {
  const KEY = "tally.adminToken";
  const tokenRequired = document.body.dataset.tokenRequired === "true";
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

  async function api(path) {
    const headers = { Accept: "application/json" };
    if (token()) headers["X-Admin-Token"] = token();
    const response = await fetch(path, { headers });
    if (response.status === 401) {
      sessionStorage.removeItem(KEY);
      showLogin();
      throw new Unauthorized("Wrong or missing admin token.");
    }
    const body = await response.json();
    if (!response.ok) {
      const detail = typeof body.detail === "string"
        ? body.detail
        : body.detail.map((problem) => problem.msg).join("; ");
      throw new Error(`${response.status}: ${detail}`);
    }
    return body;
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
    if (tokenRequired && !token()) {
      showLogin();
      return;
    }
    logout.hidden = !tokenRequired;
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

  return { api, start, number, cell, showError };
})();
