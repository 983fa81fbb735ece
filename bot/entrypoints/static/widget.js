/*
 * civicbot chat widget. An agency embeds it with one tag:
 *
 *   <script src="https://HOST/static/widget.js" data-agency="aea-hsinchu" data-lang="zh-TW" defer></script>
 *
 * Attributes: data-agency (agency code, optional), data-lang ("zh-TW" | "en"; default from the
 * browser), data-title (header text, optional), data-api (base URL of the civicbot server; default:
 * the server this file was loaded from, so the tag works on any agency site).
 *
 * Safety: every piece of user or server text reaches the page through textContent, never as HTML.
 * Isolation: the widget lives in an open shadow root, so the agency's CSS and ours never mix.
 */
(() => {
  "use strict";

  const script = document.currentScript;
  if (!script || window.__civicbotWidget) return; // loaded twice: keep the first
  window.__civicbotWidget = true;

  const MAX_CHARS = 2000; // the server's limit on one message
  const REQUEST_TIMEOUT_MS = 20000;
  const HISTORY_LIMIT = 60; // messages kept in sessionStorage so the chat survives page changes

  const scriptUrl = new URL(script.src, document.baseURI);
  const apiBase = new URL(script.dataset.api || "../", scriptUrl); // /static/widget.js -> server root
  if (!apiBase.pathname.endsWith("/")) apiBase.pathname += "/";
  let agency = (script.dataset.agency || "").trim() || null;
  const customTitle = (script.dataset.title || "").trim();

  const STRINGS = {
    "zh-TW": {
      htmlLang: "zh-Hant-TW",
      launcher: "線上客服",
      launcherOpen: "開啟線上客服",
      launcherClose: "關閉線上客服",
      title: "線上客服",
      subtitle: "自動回覆，答案均附資料來源",
      close: "關閉",
      toggle: "English",
      toggleLabel: "Switch to English",
      welcome:
        "您好！我是線上客服助理，可以回答常見問題，也能協助查詢案件進度。\n請直接輸入您的問題，例如「可以刷卡繳嗎？」。",
      logLabel: "對話紀錄",
      inputLabel: "輸入您的問題",
      placeholder: "請輸入問題",
      send: "送出",
      counter: (n) => `${n} / ${MAX_CHARS} 字`,
      tooLong: `訊息最多 ${MAX_CHARS} 字，超過的部分無法輸入。`,
      you: "您說：",
      hidden: "（驗證資料，已隱藏）",
      bot: "客服助理：",
      source: "資料來源：",
      sourceJoin: "，",
      choices: "建議選項",
      helpfulAsk: "這個回答有幫助嗎？",
      helpful: "有幫助",
      notHelpful: "沒有幫助",
      thanks: "謝謝您的回饋！",
      feedbackFailed: "回饋未能送出，請稍後再試。",
      busy: "處理中…",
      errorInput: "抱歉，這則訊息無法處理，請修改後再試一次。",
      errorBusy: "訊息送出太頻繁，請稍候再試。",
      errorServer: "抱歉，系統暫時無法回應，請稍後再試。",
      errorNetwork: "連線失敗，請檢查網路連線後再試一次。",
    },
    en: {
      htmlLang: "en",
      launcher: "Ask us",
      launcherOpen: "Open the chat assistant",
      launcherClose: "Close the chat assistant",
      title: "Chat assistant",
      subtitle: "Automated answers, each with its source",
      close: "Close",
      toggle: "中文",
      toggleLabel: "切換為中文",
      welcome:
        "Hello! I can answer common questions and help you check the progress of a case.\nType your question, for example “Can I pay by credit card?”.",
      logLabel: "Conversation",
      inputLabel: "Type your question",
      placeholder: "Type your question",
      send: "Send",
      counter: (n) => `${n} / ${MAX_CHARS} characters`,
      tooLong: `A message can be at most ${MAX_CHARS} characters; the rest cannot be typed.`,
      you: "You said:",
      hidden: "(verification details, hidden)",
      bot: "Assistant:",
      source: "Source: ",
      sourceJoin: ", ",
      choices: "Suggested replies",
      helpfulAsk: "Was this answer helpful?",
      helpful: "Helpful",
      notHelpful: "Not helpful",
      thanks: "Thank you for your feedback!",
      feedbackFailed: "Your feedback could not be sent; please try again later.",
      busy: "Working…",
      errorInput: "Sorry, this message could not be processed. Please change it and try again.",
      errorBusy: "Too many messages at once; please wait a moment and try again.",
      errorServer: "Sorry, the service is not responding right now. Please try again later.",
      errorNetwork: "Could not connect. Please check your connection and try again.",
    },
  };

  // ---- per-tab storage (sessionStorage may be unavailable, e.g. in blocked third-party contexts)

  const storeKey = (name) => `civicbot:${name}:${agency || "-"}`;
  const memory = new Map();
  const store = {
    get(name) {
      try {
        return window.sessionStorage.getItem(storeKey(name));
      } catch {
        return memory.get(name) ?? null;
      }
    },
    set(name, value) {
      try {
        window.sessionStorage.setItem(storeKey(name), value);
      } catch {
        memory.set(name, value);
      }
    },
  };

  function newSessionId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  let sessionId = store.get("session");
  if (!sessionId || !/^[A-Za-z0-9_-]{8,64}$/.test(sessionId)) {
    sessionId = newSessionId();
    store.set("session", sessionId);
  }

  function initialLanguage() {
    const chosen = store.get("lang") || script.dataset.lang || navigator.language || "zh-TW";
    return /^zh/i.test(chosen) ? "zh-TW" : "en";
  }

  let lang = initialLanguage();
  // The citizen's explicit choice (the toggle) is sent to the server; otherwise it detects the language.
  let langChosen = store.get("lang") !== null;
  const t = (key) => STRINGS[lang][key];

  let history = [];
  try {
    history = JSON.parse(store.get("history") || "[]");
    if (!Array.isArray(history)) history = [];
    const valid = (e) =>
      e && (e.role === "user" || e.role === "notice" || (e.role === "bot" && e.reply && typeof e.reply === "object"));
    history = history.filter(valid);
  } catch {
    history = [];
  }
  const saveHistory = () => store.set("history", JSON.stringify(history.slice(-HISTORY_LIMIT)));

  // ---- DOM helpers: text only, never HTML

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  const svgNS = "http://www.w3.org/2000/svg";
  function chatIcon() {
    const svg = document.createElementNS(svgNS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "22");
    svg.setAttribute("height", "22");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const path = document.createElementNS(svgNS, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6v2h2V9H7zm4 0v2h2V9h-2zm4 0v2h2V9h-2z");
    svg.append(path);
    return svg;
  }

  // ---- build the widget inside a shadow root

  const host = el("div", { id: "civicbot-widget", "data-civicbot": "" });
  const root = host.attachShadow({ mode: "open" });
  const stylesheet = el("link", { rel: "stylesheet", href: new URL("widget.css", scriptUrl).href });
  const frame = el("div", { class: "cb-frame cb-loading" });
  const reveal = () => frame.classList.remove("cb-loading");
  stylesheet.addEventListener("load", reveal);
  stylesheet.addEventListener("error", reveal);

  const launcherText = el("span", { class: "cb-launcher-text" });
  const launcher = el(
    "button",
    { type: "button", class: "cb-launcher", "aria-expanded": "false", "aria-controls": "cb-panel" },
    chatIcon(),
    launcherText,
  );

  const titleText = el("h2", { class: "cb-title", id: "cb-title" });
  const subtitleText = el("p", { class: "cb-subtitle", id: "cb-subtitle" });
  const langButton = el("button", { type: "button", class: "cb-lang" });
  const closeButton = el("button", { type: "button", class: "cb-close" }, el("span", { "aria-hidden": "true" }, "×"));
  const log = el("div", {
    class: "cb-log",
    role: "log",
    "aria-live": "polite",
    "aria-relevant": "additions",
    tabindex: "0",
  });
  const typing = el("div", { class: "cb-typing", "aria-hidden": "true", hidden: true }, el("span"), el("span"), el("span"));
  const inputLabel = el("label", { class: "cb-sr", for: "cb-input" });
  const input = el("textarea", {
    id: "cb-input",
    class: "cb-input",
    rows: "1",
    maxlength: String(MAX_CHARS),
    autocomplete: "off",
    "aria-describedby": "cb-counter",
  });
  const counter = el("p", { class: "cb-counter", id: "cb-counter" });
  const sendButton = el("button", { type: "submit", class: "cb-send" });
  const form = el("form", { class: "cb-form", novalidate: true }, inputLabel, input, sendButton);
  const panel = el(
    "section",
    { id: "cb-panel", class: "cb-panel", role: "dialog", "aria-modal": "false", "aria-labelledby": "cb-title", "aria-describedby": "cb-subtitle", hidden: true },
    el("header", { class: "cb-header" }, el("div", { class: "cb-heading" }, titleText, subtitleText), langButton, closeButton),
    log,
    typing,
    el("div", { class: "cb-footer" }, form, counter),
  );
  frame.append(panel, launcher);
  root.append(stylesheet, frame);

  // The agency's short name for the header, from the server (and a check that data-agency is a known code).
  let agencyNames = null;
  async function loadAgency() {
    if (!agency) return;
    try {
      const cached = JSON.parse(store.get("agency") || "null");
      if (cached && cached.code === agency) {
        agencyNames = cached;
        return;
      }
      const response = await fetch(new URL("api/agencies", apiBase), { credentials: "omit" });
      if (!response.ok) return;
      const list = await response.json();
      const found = Array.isArray(list) ? list.find((a) => a && a.code === agency) : undefined;
      if (!found) {
        console.warn(`civicbot widget: unknown data-agency "${agency}"; answering for all agencies`);
        agency = null;
        return;
      }
      agencyNames = { code: agency, zh: String(found.short_zh || ""), en: String(found.short_en || "") };
      store.set("agency", JSON.stringify(agencyNames));
    } catch {
      // The header falls back to the generic title; chatting still works.
    }
  }
  const agencyReady = loadAgency().then(() => applyStrings());

  function headerTitle() {
    if (customTitle) return customTitle;
    const name = agencyNames && (lang === "en" ? agencyNames.en : agencyNames.zh);
    if (!name) return t("title");
    return lang === "en" ? `${name} — ${t("title")}` : `${name}${t("title")}`;
  }

  function applyStrings() {
    const s = STRINGS[lang];
    panel.setAttribute("lang", s.htmlLang);
    launcher.setAttribute("lang", s.htmlLang);
    launcherText.textContent = s.launcher;
    launcher.setAttribute("aria-label", panel.hidden ? s.launcherOpen : s.launcherClose);
    titleText.textContent = headerTitle();
    subtitleText.textContent = s.subtitle;
    langButton.textContent = s.toggle;
    langButton.setAttribute("aria-label", s.toggleLabel);
    langButton.setAttribute("lang", lang === "en" ? "zh-Hant-TW" : "en");
    closeButton.setAttribute("aria-label", s.close);
    closeButton.title = s.close;
    log.setAttribute("aria-label", s.logLabel);
    inputLabel.textContent = s.inputLabel;
    input.placeholder = s.placeholder;
    sendButton.textContent = s.send;
    updateCounter();
  }

  function updateCounter() {
    const n = input.value.length;
    counter.textContent = n >= MAX_CHARS ? `${t("counter")(n)} — ${t("tooLong")}` : t("counter")(n);
    counter.classList.toggle("cb-counter-full", n >= MAX_CHARS);
  }

  // ---- rendering messages (history entries are plain data; rendering uses textContent only)

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function disableOldChoices() {
    for (const button of log.querySelectorAll(".cb-choices button")) button.disabled = true;
  }

  function sourceLine(source) {
    const parts = [source.document, source.section].filter((x) => typeof x === "string" && x.trim());
    return t("source") + parts.join(t("sourceJoin"));
  }

  function renderUser(entry) {
    const text = entry.secret
      ? el("p", { class: "cb-text" }, el("span", { "aria-hidden": "true" }, "••••"), el("span", { class: "cb-sr" }, t("hidden")))
      : el("p", { class: "cb-text" }, entry.text);
    return el("div", { class: "cb-msg cb-user" }, el("span", { class: "cb-sr" }, t("you")), text);
  }

  function renderNotice(entry) {
    return el("div", { class: "cb-msg cb-bot cb-notice" }, el("span", { class: "cb-sr" }, t("bot")), el("p", { class: "cb-text" }, entry.text));
  }

  function renderBot(entry, live) {
    const reply = entry.reply;
    const msg = el("div", { class: "cb-msg cb-bot", "data-kind": reply.kind || "" });
    msg.append(el("span", { class: "cb-sr" }, t("bot")), el("p", { class: "cb-text" }, String(reply.text ?? "")));
    for (const source of Array.isArray(reply.sources) ? reply.sources : []) {
      msg.append(el("p", { class: "cb-source" }, sourceLine(source)));
    }
    const choices = Array.isArray(reply.quick_replies) ? reply.quick_replies : [];
    if (choices.length) {
      const group = el("div", { class: "cb-choices", role: "group", "aria-label": t("choices") });
      for (const choice of choices) {
        const button = el("button", { type: "button", class: "cb-choice", disabled: !live }, String(choice.label ?? ""));
        button.addEventListener("click", () => {
          disableOldChoices();
          send({ payload: String(choice.payload ?? ""), shown: String(choice.label ?? "") });
          input.focus();
        });
        group.append(button);
      }
      msg.append(group);
    }
    if (reply.feedback && Number.isInteger(reply.turn_id)) msg.append(renderFeedback(entry));
    return msg;
  }

  function renderFeedback(entry) {
    const box = el("div", { class: "cb-feedback" });
    if (entry.rated) {
      box.append(el("p", { class: "cb-thanks" }, t("thanks")));
      return box;
    }
    const ask = el("span", { class: "cb-feedback-ask" }, t("helpfulAsk"));
    // Visible words beside the emoji, so the buttons read right even where no emoji font is installed.
    const rateButton = (helpful, emoji, label) =>
      el("button", { type: "button", class: "cb-rate", "data-helpful": helpful ? "1" : "0", "aria-label": label },
        el("span", { "aria-hidden": "true" }, emoji), ` ${label}`);
    const up = rateButton(true, "👍", t("helpful"));
    const down = rateButton(false, "👎", t("notHelpful"));
    const rate = async (helpful) => {
      up.disabled = down.disabled = true;
      const ok = await postFeedback(entry.reply.turn_id, helpful);
      if (ok) {
        entry.rated = true;
        saveHistory();
        box.replaceChildren(el("p", { class: "cb-thanks" }, t("thanks")));
        input.focus();
      } else {
        up.disabled = down.disabled = false;
        box.append(el("p", { class: "cb-error" }, t("feedbackFailed")));
      }
    };
    up.addEventListener("click", () => rate(true));
    down.addEventListener("click", () => rate(false));
    box.append(ask, up, down);
    return box;
  }

  function renderEntry(entry, live) {
    if (entry.role === "user") return renderUser(entry);
    if (entry.role === "bot") return renderBot(entry, live);
    return renderNotice(entry);
  }

  function addEntry(entry) {
    history.push(entry);
    saveHistory();
    log.append(renderEntry(entry, true));
    scrollToEnd();
  }

  function renderAll() {
    log.replaceChildren();
    history.forEach((entry, i) => log.append(renderEntry(entry, i === history.length - 1)));
    scrollToEnd();
  }

  // ---- talking to the server

  async function postJson(path, body) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    try {
      return await fetch(new URL(path, apiBase), {
        method: "POST",
        mode: "cors",
        credentials: "omit",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  async function postFeedback(turnId, helpful) {
    try {
      const response = await postJson("api/feedback", { session_id: sessionId, turn_id: turnId, helpful });
      return response.ok;
    } catch {
      return false;
    }
  }

  function errorText(status) {
    if (status === 429) return t("errorBusy");
    if (status >= 400 && status < 500) return t("errorInput");
    return t("errorServer");
  }

  let pending = false;

  function setPending(on) {
    pending = on;
    sendButton.disabled = on;
    typing.hidden = !on;
    log.setAttribute("aria-busy", on ? "true" : "false");
    if (on) scrollToEnd();
  }

  // While the dialogue waits for a case's verification factor, what the citizen types is not echoed or kept.
  function awaitingVerifier() {
    const last = history.findLast((entry) => entry.role === "bot");
    return Boolean(last && last.reply && last.reply.state === "case_verify");
  }

  async function send({ text = null, payload = null, shown = null, language = langChosen ? lang : null }) {
    if (pending) return;
    if (shown !== null && text !== null && awaitingVerifier()) addEntry({ role: "user", secret: true });
    else if (shown !== null) addEntry({ role: "user", text: shown });
    disableOldChoices();
    setPending(true);
    const body = { session_id: sessionId, text, payload, agency, language };
    try {
      const response = await postJson("api/chat", body);
      if (!response.ok) {
        addEntry({ role: "notice", text: errorText(response.status) });
        return;
      }
      const reply = await response.json();
      if (!reply || typeof reply !== "object" || typeof reply.text !== "string") {
        addEntry({ role: "notice", text: t("errorServer") });
        return;
      }
      addEntry({ role: "bot", reply });
    } catch {
      addEntry({ role: "notice", text: t("errorNetwork") });
    } finally {
      setPending(false);
    }
  }

  // ---- behaviour

  // An empty chat starts with the server's greeting and its menu of common services (any payload the
  // dialogue does not know, such as "start", gets them); if that fails, a local welcome before the error.
  async function greet() {
    await agencyReady;
    await send({ payload: "start", language: lang });
    const last = history[history.length - 1];
    if (last && last.role === "notice") {
      history.splice(history.length - 1, 0, { role: "notice", text: t("welcome") });
      saveHistory();
      renderAll();
    }
  }

  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    launcher.classList.add("cb-launcher-active");
    store.set("open", "1");
    applyStrings();
    scrollToEnd();
    input.focus();
    if (!history.length) greet();
  }

  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.classList.remove("cb-launcher-active");
    store.set("open", "0");
    applyStrings();
    launcher.focus();
  }

  launcher.addEventListener("click", () => (panel.hidden ? open() : close()));
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  langButton.addEventListener("click", () => {
    lang = lang === "en" ? "zh-TW" : "en";
    langChosen = true;
    store.set("lang", lang);
    applyStrings();
    if (!pending && !history.some((entry) => entry.role === "user")) {
      history = []; // nothing asked yet: greet again in the chosen language
      saveHistory();
      renderAll();
      greet();
    } else {
      renderAll();
    }
    langButton.focus();
  });

  function submit() {
    const text = input.value;
    if (!text.trim() || pending) return;
    input.value = "";
    updateCounter();
    send({ text, shown: text });
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  input.addEventListener("keydown", (event) => {
    // Enter sends; Shift+Enter is a new line; Enter that confirms an IME (注音, 倉頡) composition is not a send.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      submit();
    }
  });
  input.addEventListener("input", updateCounter);

  applyStrings();
  renderAll();
  const mount = () => {
    document.body.append(host);
    if (store.get("open") === "1") {
      panel.hidden = false;
      launcher.setAttribute("aria-expanded", "true");
      launcher.classList.add("cb-launcher-active");
      applyStrings();
      scrollToEnd();
    }
  };
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount, { once: true });
})();
