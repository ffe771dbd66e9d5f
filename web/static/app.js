// The chat page with JavaScript: ask through POST /api/ask and update the page in place.
// Everything from the user or the corpus goes into the page as textContent, never as HTML.
//
// The chat survives navigation: its turns (the API's answers, and the feedback given on
// them) are kept in sessionStorage under a chat id, and the URL carries the id and the
// questions (`/?q=...&q=...&chat=ID`). Back, reload and "Open in source" find the turns in
// storage; a shared link, in a browser without them, is answered again by the server (GET
// with `q`), which is also how the page works without JavaScript.
"use strict";

(function () {
  const MARKER = /\[(\d+)\]/g;
  const STORE_PREFIX = "qa.chat.";
  const STORE_INDEX = "qa.chats";
  const MAX_STORED_CHATS = 20;
  const MAX_URL_CHARS = 8000; // as the server's redirect: longer URLs carry only the chat id
  const MAX_HISTORY_TURNS = 20;
  const MAX_ANSWER_CHARS_IN_HISTORY = 4000;

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function sourceUrl(c) {
    const path = c.doc_id.split("/").map(encodeURIComponent).join("/");
    return `/documents/${path}?start=${c.start}&end=${c.end}#cited`;
  }

  function appendWithMarkers(node, text, turn) {
    let last = 0;
    for (const match of text.matchAll(MARKER)) {
      node.append(document.createTextNode(text.slice(last, match.index)));
      node.append(el("a", { class: "marker", href: `#c${turn}-${match[1]}` }, `[${match[1]}]`));
      last = match.index + match[0].length;
    }
    node.append(document.createTextNode(text.slice(last)));
  }

  // Where `inner` (document offsets, counted in code points as the server counts them) is
  // in `outer`'s text, as offsets of this string (UTF-16 units); null when it is not inside.
  function spanIn(text, outerStart, innerStart, innerEnd, expected) {
    const chars = Array.from(text);
    const lo = innerStart - outerStart;
    const hi = innerEnd - outerStart;
    if (lo < 0 || hi <= lo || hi > chars.length || chars.slice(lo, hi).join("") !== expected) return null;
    const at = chars.slice(0, lo).join("").length;
    return [at, at + expected.length];
  }

  // Where the short answer is in a citation's quote: the quote is verbatim, so document
  // offsets place it.
  function shortSpan(c, short) {
    if (!short || short.doc_id !== c.doc_id) return null;
    return spanIn(c.quote, c.start, short.start, short.end, short.text);
  }

  // The text with text[lo:hi] in a <mark class=`cls`>, each other piece through `append`.
  function appendEmphasised(node, text, span, append, cls) {
    if (!span) {
      append(node, text);
      return;
    }
    append(node, text.slice(0, span[0]));
    node.append(el("mark", { class: cls || "short" }, text.slice(span[0], span[1])));
    append(node, text.slice(span[1]));
  }

  const appendText = (node, text) => node.append(document.createTextNode(text));

  function answerText(data, turn) {
    const p = el("p", { class: "text" });
    const first = data.citations[0];
    const inQuote = first ? shortSpan(first, data.short_answer) : null;
    const at = inQuote ? data.answer.indexOf(first.quote) : -1;
    const span = at >= 0 ? [at + inQuote[0], at + inQuote[1]] : null;
    appendEmphasised(p, data.answer, span, (node, text) => appendWithMarkers(node, text, turn));
    return p;
  }

  function quoteText(c, short) {
    const quote = el("blockquote", { class: "quote" });
    appendEmphasised(quote, c.quote, shortSpan(c, short), appendText);
    return quote;
  }

  // A decline's closest passage (the quote), whole, its best sentence marked.
  function passageText(c) {
    const block = el("blockquote", { class: "passage" });
    const b = c.best;
    appendEmphasised(block, c.quote, spanIn(c.quote, c.start, b.start, b.end, b.text), appendText, "best");
    return block;
  }

  function whereNodes(c) {
    const nodes = [el("span", { class: "n" }, `[${c.n}]`), document.createTextNode(" "), el("span", { class: "doc-title" }, c.title)];
    if (c.section) nodes.push(el("span", { class: "sep" }, " · "), el("span", { class: "section" }, c.section));
    if (c.page) nodes.push(document.createTextNode(" "), el("span", { class: "page" }, `(page ${c.page})`));
    return nodes;
  }

  function actions(c) {
    const p = el("p", { class: "actions" });
    p.append(el("a", { class: "open", href: sourceUrl(c) }, "Open in source"));
    return p;
  }

  // A source of an answer: a chip (title, section, page) that opens to its quote.
  function sourceChip(c, turn, short) {
    const item = el("li", { class: "citation", id: `c${turn}-${c.n}`, "data-n": String(c.n) });
    const chip = el("details", { class: "chip" });
    const summary = el("summary", { class: "where" });
    summary.append(...whereNodes(c));
    chip.append(summary, quoteText(c, short), actions(c));
    item.append(chip);
    return item;
  }

  // A closest passage of a decline: its best sentence, and "More" for the whole passage.
  function closestPassage(c, turn) {
    const item = el("li", { class: "citation", id: `c${turn}-${c.n}`, "data-n": String(c.n) });
    const where = el("p", { class: "where" });
    where.append(...whereNodes(c));
    item.append(where, el("blockquote", { class: "quote" }, c.best ? c.best.text : c.quote));
    if (c.best && c.best.text !== c.quote) {
      // the passage is more than its best sentence
      const more = el("details", { class: "more" });
      const summary = el("summary");
      summary.append(el("span", { class: "more-label" }, "More"), el("span", { class: "less-label" }, "Less"));
      more.append(summary, passageText(c));
      item.append(more);
    }
    item.append(actions(c));
    return item;
  }

  // The same markup as the server's _turn.html.
  function renderTurn(data, turn) {
    const article = el("article", { class: data.answered ? "turn" : "turn declined", id: `t${turn}` });
    const question = el("p", { class: "question" });
    question.append(el("span", { class: "who" }, "You asked"), document.createTextNode(" " + data.question));
    article.append(question);
    if (data.read_as) article.append(el("p", { class: "resolved" }, "Read as: " + data.read_as));
    const answer = el("div", { class: "answer" });
    if (data.answered) {
      if (data.short_answer) {
        const lead = el("p", { class: "short-answer" });
        lead.append(el("strong", {}, data.short_answer.text));
        answer.append(lead);
      }
      answer.append(answerText(data, turn));
    } else {
      answer.append(el("p", { class: "text not-found" }, data.answer));
    }
    article.append(answer);
    if (data.citations.length) {
      article.append(el("h2", { class: "citations-title" }, data.answered ? "Sources" : "Closest passages"));
      const list = el("ol", { class: data.answered ? "citations chips" : "citations closest" });
      data.citations.forEach((c, i) => {
        list.append(data.answered ? sourceChip(c, turn, i === 0 ? data.short_answer : null) : closestPassage(c, turn));
      });
      article.append(list);
    }
    const foot = el("div", { class: "turn-foot" });
    const meta = el("details", { class: "meta" });
    meta.append(
      el("summary", {}, "Details"),
      el("p", {}, `${Math.round(data.took_ms)} ms · confidence ${data.confidence.toFixed(2)}`)
    );
    foot.append(meta);
    article.append(foot);
    return article;
  }

  function errorMessage(status, body) {
    if (body && Array.isArray(body.detail) && body.detail.length) {
      return body.detail.map((d) => d.msg).join("; ");
    }
    if (body && typeof body.detail === "string") return body.detail;
    return `The server answered ${status}.`;
  }

  const count = (n) => n.toLocaleString("en-US");
  const lengthOf = (text) => Array.from(text.trim()).length; // code points, as the server counts

  // --- the chat's storage --------------------------------------------------------------------

  const storage = {
    load(id) {
      try {
        const chat = JSON.parse(sessionStorage.getItem(STORE_PREFIX + id) || "null");
        return chat && Array.isArray(chat.turns) ? chat : null;
      } catch (err) {
        return null;
      }
    },
    save(id, turns) {
      try {
        const ids = JSON.parse(sessionStorage.getItem(STORE_INDEX) || "[]").filter((x) => x !== id);
        ids.push(id);
        while (ids.length > MAX_STORED_CHATS) sessionStorage.removeItem(STORE_PREFIX + ids.shift());
        sessionStorage.setItem(STORE_INDEX, JSON.stringify(ids));
        sessionStorage.setItem(STORE_PREFIX + id, JSON.stringify({ turns }));
      } catch (err) {
        // Storage full or turned off: the URL still carries the questions.
      }
    },
    remove(id) {
      try {
        sessionStorage.removeItem(STORE_PREFIX + id);
      } catch (err) {
        // nothing kept, nothing to remove
      }
    },
  };

  function newChatId() {
    const bytes = new Uint8Array(8);
    crypto.getRandomValues(bytes); // unlike randomUUID, also on plain-HTTP hosts
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function saveState(changes) {
    history.replaceState({ ...(history.state || {}), ...changes }, "");
  }

  // --- feedback ------------------------------------------------------------------------------

  const THANKS = {
    up: "Thanks for your feedback.",
    downAnswered: "Thanks. If one of the sources answers the question, choose \u201cThis answers it\u201d on it.",
    downDeclined: "Thanks. If one of the closest passages answers the question, choose \u201cThis answers it\u201d on it.",
    chosen: "Thanks: the passage you chose is noted as the answer.",
  };

  async function postFeedback(body) {
    let response;
    try {
      response = await fetch("/api/feedback", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    } catch (err) {
      throw new Error("the server could not be reached");
    }
    if (!response.ok) {
      const payload = await response.json().catch(() => null);
      throw new Error(errorMessage(response.status, payload));
    }
  }

  // --- the chat ------------------------------------------------------------------------------

  function setUpChat(form) {
    const textarea = form.querySelector("#question");
    const button = form.querySelector("#ask-button");
    const errorBox = form.querySelector("#ask-error");
    const lengthBox = form.querySelector("#question-length");
    const conversation = document.getElementById("conversation");
    const maxChars = Number(textarea.dataset.maxChars) || 1000;
    const newChat = document.getElementById("new-chat");
    let chatId = new URLSearchParams(location.search).get("chat");
    let turns = []; // {data: the API's answer, feedback: null | {rating, chosen}}

    const tooLong = (n) => `Your question is ${count(n)} characters long; the limit is ${count(maxChars)}.`;

    // The documents the chat asks within, as the page's form carries them.
    function scopeIds() {
      return [...form.querySelectorAll('input[name="doc_ids"]')].map((input) => input.value);
    }

    function chatUrl() {
      const base = new URLSearchParams();
      for (const id of scopeIds()) base.append("doc_ids", id);
      const full = new URLSearchParams(base);
      for (const t of turns) full.append("q", t.data.question);
      full.append("chat", chatId);
      base.append("chat", chatId);
      const url = `/?${full}`;
      return url.length <= MAX_URL_CHARS ? url : `/?${base}`;
    }

    // Keep the turns, and put the chat in the URL (the current entry: asking is not a page
    // of its own for Back to step through).
    function persist(hash) {
      if (!turns.length) return;
      chatId = chatId || newChatId();
      storage.save(chatId, turns);
      history.replaceState({ ...(history.state || {}), chat: chatId }, "", chatUrl() + (hash || ""));
    }

    function historyBefore(index) {
      return turns.slice(Math.max(0, index - MAX_HISTORY_TURNS), index).map((t) => ({
        question: t.data.question,
        answer: t.data.answer.slice(0, MAX_ANSWER_CHARS_IN_HISTORY),
      }));
    }

    function showError(message) {
      errorBox.textContent = message;
      errorBox.hidden = !message;
    }

    // Feedback on a turn: Helpful / Not helpful, and "This answers it" on each passage of a
    // declined or not-helpful answer (with the passage's span). A chosen passage says the
    // answer (or the decline) was wrong: rating "down".
    function setUpFeedback(article, index) {
      const entry = turns[index];
      const data = entry.data;
      const foot = article.querySelector(".turn-foot");
      const box = el("div", { class: "feedback", role: "group", "aria-label": "Was this answer helpful?" });
      const up = el("button", { type: "button", class: "secondary small", "aria-pressed": "false" }, "Helpful");
      const down = el("button", { type: "button", class: "secondary small", "aria-pressed": "false" }, "Not helpful");
      const status = el("p", { class: "feedback-status", role: "status", tabindex: "-1" });
      box.append(up, down);
      foot.prepend(box);
      foot.append(status);
      const items = [...article.querySelectorAll("li.citation")];
      const choices = items.map((item) => {
        const choose = el("button", { type: "button", class: "secondary small choose" }, "This answers it");
        item.querySelector(".actions").append(choose);
        return choose;
      });

      function show(sending, failure) {
        const fb = entry.feedback;
        const done = fb !== null && fb !== undefined;
        up.disabled = down.disabled = sending || done;
        up.setAttribute("aria-pressed", String(done && fb.rating === "up"));
        down.setAttribute("aria-pressed", String(done && fb.rating === "down"));
        const offered = !data.answered || (done && fb.rating === "down");
        choices.forEach((choose, i) => {
          const chosen = done && fb.chosen === data.citations[i].n;
          choose.hidden = !(offered || chosen) || (done && fb.rating === "up");
          choose.disabled = sending || (done && fb.chosen != null);
          choose.textContent = chosen ? "Chosen as the answer" : "This answers it";
          choose.classList.toggle("chosen", chosen);
        });
        status.classList.toggle("error", Boolean(failure));
        if (failure) status.textContent = `Your feedback could not be sent: ${failure}. Please try again.`;
        else if (!done) status.textContent = sending ? "Sending…" : "";
        else if (fb.chosen != null) status.textContent = THANKS.chosen;
        else if (fb.rating === "up") status.textContent = THANKS.up;
        else status.textContent = data.answered ? THANKS.downAnswered : THANKS.downDeclined;
      }

      // The buttons are disabled while sending and after: keep the keyboard's place.
      function refocus(trigger, failed) {
        if (failed) return trigger.focus();
        const next = choices.find((choose) => !choose.hidden && !choose.disabled);
        (next || status).focus();
      }

      async function send(rating, citation) {
        const before = entry.feedback;
        const trigger = document.activeElement;
        show(true);
        const body = {
          question: data.question,
          history: historyBefore(index),
          answer: data.answer,
          answered: data.answered,
          citations: data.citations,
          rating,
        };
        // A closest passage answers through its best sentence, the span shown for it.
        const span = citation && (citation.best || citation);
        if (citation) Object.assign(body, { doc_id: citation.doc_id, start: span.start, end: span.end });
        try {
          await postFeedback(body);
        } catch (err) {
          entry.feedback = before;
          show(false, err.message);
          refocus(trigger, true);
          return;
        }
        entry.feedback = { rating, chosen: citation ? citation.n : null };
        persist();
        show(false);
        // Open the sources, so that one can be chosen as the answer.
        if (rating === "down" && !citation) for (const chip of article.querySelectorAll("details.chip")) chip.open = true;
        refocus(trigger, false);
      }

      up.addEventListener("click", () => send("up", null));
      down.addEventListener("click", () => send("down", null));
      choices.forEach((choose, i) => choose.addEventListener("click", () => send("down", data.citations[i])));
      show(false);
    }

    function open(target) {
      const chip = target.querySelector("details.chip");
      if (chip) chip.open = true;
    }

    // Back to where the reader left for the source: the cited passage, else the scroll.
    function restorePosition() {
      const state = history.state || {};
      const cited = state.cited ? document.getElementById(state.cited) : null;
      if (cited) {
        open(cited);
        cited.scrollIntoView({ block: "center" });
        const link = cited.querySelector("a.open");
        if (link) link.focus({ preventScroll: true });
        saveState({ cited: null });
      } else if (typeof state.scrollY === "number") {
        window.scrollTo(0, state.scrollY);
      } else if (location.hash.startsWith("#c")) {
        const target = document.getElementById(location.hash.slice(1));
        if (target) open(target);
      }
    }

    // The turns: from storage when this tab has them (the answers as they were, with the
    // feedback given), else as the server answered the URL's questions.
    const served = [];
    for (const article of conversation.querySelectorAll("article.turn")) {
      try {
        served.push({ article, data: JSON.parse(article.dataset.turn) });
      } catch (err) {
        served.push({ article, data: null });
      }
    }
    const stored = chatId ? storage.load(chatId) : null;
    const servedQuestions = served.map((s) => (s.data ? s.data.question : null));
    const matches = stored && servedQuestions.every((q, i) => stored.turns[i] && stored.turns[i].data.question === q);
    if (stored && stored.turns.length && matches) {
      turns = stored.turns;
      conversation.replaceChildren(...turns.map((t, i) => renderTurn(t.data, i + 1)));
      conversation.querySelectorAll("article.turn").forEach((article, i) => setUpFeedback(article, i));
    } else if (served.every((s) => s.data)) {
      turns = served.map((s) => ({ data: s.data, feedback: null }));
      served.forEach((s, i) => setUpFeedback(s.article, i));
    }
    persist(location.hash);
    if ("scrollRestoration" in history) history.scrollRestoration = "manual";
    restorePosition();

    window.addEventListener("pagehide", () => saveState({ scrollY: window.scrollY }));
    window.addEventListener("pageshow", (event) => {
      if (event.persisted) saveState({ cited: null }); // kept whole by the browser: nothing to restore
    });

    conversation.addEventListener("click", (event) => {
      const marker = event.target.closest("a.marker");
      if (marker) {
        // Open the cited chip in place, without a history entry for Back to step through.
        const target = document.getElementById(marker.getAttribute("href").slice(1));
        if (!target) return;
        event.preventDefault();
        open(target);
        target.scrollIntoView({ block: "nearest" });
        const focusable = target.querySelector("summary, a.open");
        if (focusable) focusable.focus({ preventScroll: true });
        return;
      }
      const link = event.target.closest("a.open");
      const plain = event.button === 0 && !event.ctrlKey && !event.metaKey && !event.shiftKey && !event.altKey;
      if (link && plain) saveState({ cited: link.closest("li.citation").id, scrollY: window.scrollY });
    });

    function checkLength() {
      const n = lengthOf(textarea.value);
      const over = n > maxChars;
      lengthBox.textContent = over ? tooLong(n) : "";
      textarea.setAttribute("aria-invalid", String(over));
      return over ? n : 0;
    }

    async function ask(question) {
      question = question.trim();
      if (!question) {
        showError("Please type a question.");
        return;
      }
      const n = lengthOf(question);
      if (n > maxChars) {
        lengthBox.textContent = ""; // said once, by the alert
        showError(tooLong(n));
        textarea.focus();
        return;
      }
      showError("");
      button.disabled = true;
      const pending = el("p", { class: "pending" }, "Looking in the corpus…");
      conversation.append(pending);
      try {
        const scope = scopeIds();
        const response = await fetch("/api/ask", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({
            question,
            history: historyBefore(turns.length),
            ...(scope.length ? { doc_ids: scope } : {}),
          }),
        });
        const body = await response.json().catch(() => null);
        if (!response.ok) {
          showError(errorMessage(response.status, body));
          return;
        }
        turns.push({ data: body, feedback: null });
        const article = renderTurn(body, turns.length);
        conversation.append(article);
        setUpFeedback(article, turns.length - 1);
        saveState({ cited: null, scrollY: null });
        persist();
        textarea.value = "";
        checkLength();
        article.scrollIntoView({ block: "nearest" });
      } catch (err) {
        showError("Could not reach the server. Please try again.");
      } finally {
        pending.remove();
        button.disabled = false;
        textarea.focus();
      }
    }

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      ask(textarea.value);
    });
    textarea.addEventListener("input", () => {
      if (checkLength() || errorBox.textContent.startsWith("Your question is")) showError("");
    });
    textarea.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    for (const example of document.querySelectorAll("button.example")) {
      example.addEventListener("click", (event) => {
        event.preventDefault();
        textarea.value = example.value;
        ask(example.value);
      });
    }
    if (newChat) {
      newChat.addEventListener("click", (event) => {
        event.preventDefault();
        if (chatId) storage.remove(chatId);
        chatId = null;
        turns = [];
        conversation.replaceChildren();
        for (const hidden of document.querySelectorAll('input[name="history"]')) hidden.remove();
        history.replaceState(null, "", newChat.getAttribute("href"));
        showError("");
        textarea.value = "";
        checkLength();
        textarea.focus();
      });
    }
  }

  // On the source view, "Back to the chat" links to the chat it was opened from (the
  // server reads it from the Referer); when that chat is the page before this one, going
  // back to it (rather than to a copy of it) returns to where the reader was.
  function setUpBackLinks() {
    let from = null;
    try {
      from = new URL(document.referrer);
    } catch (err) {
      return;
    }
    for (const link of document.querySelectorAll("a.back")) {
      const to = new URL(link.href);
      if (from.origin !== to.origin || from.pathname + from.search !== to.pathname + to.search) continue;
      link.addEventListener("click", (event) => {
        if (history.length < 2 || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
        event.preventDefault();
        history.back();
      });
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("ask-form");
    if (form) setUpChat(form);
    setUpBackLinks();
    const cited = document.getElementById("cited");
    if (cited) cited.focus({ preventScroll: true });
  });
})();
