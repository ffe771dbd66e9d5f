// The chat page with JavaScript: ask through POST /api/ask and update the page in place.
// Everything from the user or the corpus goes into the page as textContent, never as HTML.
"use strict";

(function () {
  const MARKER = /\[(\d+)\]/g;

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

  // Where the short answer is in a citation's quote: the quote is verbatim, so document
  // offsets place it. Null when it is not inside.
  function shortSpan(c, short) {
    if (!short || short.doc_id !== c.doc_id) return null;
    const lo = short.start - c.start;
    const hi = short.end - c.start;
    if (lo < 0 || hi <= lo || hi > c.quote.length || c.quote.slice(lo, hi) !== short.text) return null;
    return [lo, hi];
  }

  // The text with text[lo:hi] in <mark class="short">, each piece through `append`.
  function appendEmphasised(node, text, span, append) {
    if (!span) {
      append(node, text);
      return;
    }
    append(node, text.slice(0, span[0]));
    node.append(el("mark", { class: "short" }, text.slice(span[0], span[1])));
    append(node, text.slice(span[1]));
  }

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
    appendEmphasised(quote, c.quote, shortSpan(c, short), (node, text) => node.append(document.createTextNode(text)));
    return quote;
  }

  function renderTurn(data, turn) {
    const article = el("article", { class: data.answered ? "turn" : "turn declined", id: `t${turn}` });
    const question = el("p", { class: "question" });
    question.append(el("span", { class: "who" }, "You asked"), document.createTextNode(" " + data.question));
    article.append(question);
    if (data.resolved_question && data.resolved_question !== data.question) {
      article.append(el("p", { class: "resolved" }, "Read as: " + data.resolved_question));
    }
    const answer = el("div", { class: "answer" });
    answer.append(
      data.answered
        ? answerText(data, turn)
        : el("p", { class: "text not-found" }, "The corpus doesn't say.")
    );
    answer.append(
      el("p", { class: "meta" }, `${Math.round(data.took_ms)} ms · confidence ${data.confidence.toFixed(2)}`)
    );
    article.append(answer);
    if (data.citations.length) {
      article.append(el("h2", { class: "citations-title" }, data.answered ? "Sources" : "Closest passages"));
      const list = el("ol", { class: "citations" });
      for (const c of data.citations) {
        const item = el("li", { class: "citation", id: `c${turn}-${c.n}` });
        const where = el("p", { class: "where" });
        where.append(
          el("span", { class: "n" }, `[${c.n}]`),
          document.createTextNode(" "),
          el("span", { class: "doc-title" }, c.title),
          document.createTextNode(" — "),
          el("span", { class: "section" }, c.section)
        );
        if (c.page) where.append(document.createTextNode(" "), el("span", { class: "page" }, `(page ${c.page})`));
        item.append(where, quoteText(c, c === data.citations[0] ? data.short_answer : null));
        item.append(el("a", { class: "open", href: sourceUrl(c) }, "Open in source"));
        list.append(item);
      }
      article.append(list);
    }
    return article;
  }

  function errorMessage(status, body) {
    if (body && Array.isArray(body.detail) && body.detail.length) {
      return body.detail.map((d) => d.msg).join("; ");
    }
    if (body && typeof body.detail === "string") return body.detail;
    return `The server answered ${status}.`;
  }

  function setUpChat(form) {
    const textarea = form.querySelector("#question");
    const button = form.querySelector("#ask-button");
    const errorBox = form.querySelector("#ask-error");
    const conversation = document.getElementById("conversation");
    const history = [];
    for (const turn of conversation.querySelectorAll("article.turn")) {
      history.push({ question: turn.dataset.question, answer: turn.dataset.answer });
    }

    // The documents the chat asks within, as the page's form carries them.
    function scope() {
      const ids = [...form.querySelectorAll('input[name="doc_ids"]')].map((input) => input.value);
      return ids.length ? { doc_ids: ids } : {};
    }

    function showError(message) {
      errorBox.textContent = message;
      errorBox.hidden = !message;
    }

    async function ask(question) {
      question = question.trim();
      if (!question) {
        showError("Please type a question.");
        return;
      }
      showError("");
      button.disabled = true;
      const pending = el("p", { class: "pending" }, "Looking in the corpus…");
      conversation.append(pending);
      try {
        const response = await fetch("/api/ask", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ question, history: history.slice(-20), ...scope() }),
        });
        const body = await response.json().catch(() => null);
        if (!response.ok) {
          showError(errorMessage(response.status, body));
          return;
        }
        const turn = history.length + 1;
        history.push({ question: body.question, answer: body.answer });
        const article = renderTurn(body, turn);
        conversation.append(article);
        textarea.value = "";
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
    const newChat = document.getElementById("new-chat");
    if (newChat) {
      newChat.addEventListener("click", (event) => {
        event.preventDefault();
        history.length = 0;
        conversation.replaceChildren();
        for (const hidden of document.querySelectorAll('input[name="history"]')) hidden.remove();
        showError("");
        textarea.value = "";
        textarea.focus();
      });
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("ask-form");
    if (form) setUpChat(form);
    const cited = document.getElementById("cited");
    if (cited) cited.focus({ preventScroll: true });
  });
})();
