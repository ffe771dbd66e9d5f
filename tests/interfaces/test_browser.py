"""The web chat in a real browser (Chromium via Playwright) against the real server."""

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from conftest import MARKUP_QUESTION, MARKUP_SHORT, REPO, served
from qa.learning.feedback import FeedbackStore, gold_items

ARTIFACTS = REPO / "artifacts"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 15_000
US = "How many North Koreans live in the US?"
CANADA = "How many North Koreans reside in Canada?"
DECLINED = "Who won the 2018 World Cup?"
BENEFITS = "What benefits does South Korea offer?"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no Chromium")
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def new_page(browser, base_url, **options):
    context = browser.new_context(base_url=base_url, **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


# Every test on `page` runs on a desktop window and on a phone's width.
WIDTHS = {"1280": {"width": 1280, "height": 800}, "375": {"width": 375, "height": 740}}


@pytest.fixture(params=list(WIDTHS))
def page(request, browser, base_url):
    page = new_page(browser, base_url, viewport=WIDTHS[request.param])
    page.goto("/")
    yield page
    page.context.close()


def ask(page, question, turn):
    """Types the question, presses Enter, and returns the new turn once it is shown."""
    page.fill("#question", question)
    page.press("#question", "Enter")
    article = page.locator(f"#conversation article.turn#t{turn}")
    expect(article).to_be_visible()
    return article


def normalized(text):
    return " ".join(text.split())


def screenshot(page, name, full_page=True):
    """Saves a screenshot named by the window's width ("chat-1280.png"); a full page is
    taken from the bottom, so the sticky form sits last."""
    stem, dot, suffix = name.rpartition(".")
    name = f"{stem}-{page.viewport_size['width']}{dot}{suffix}" if page.viewport_size else name
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    if full_page:
        page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.screenshot(path=str(path), full_page=full_page)
    assert path.is_file() and path.stat().st_size > 0


def open_chip(turn, n=1):
    """Opens source chip n of the turn (a click on its summary, as a reader would)."""
    chip = turn.locator(f"li.citation[data-n='{n}'] details.chip")
    chip.locator("summary").click()
    expect(chip).to_have_attribute("open", "")
    return chip


def test_a_source_chip_expands_to_the_quote(page):
    turn = ask(page, BENEFITS, 1)
    expect(turn).not_to_have_class(re.compile(r"\bdeclined\b"))
    chip = turn.locator("li.citation").first.locator("details.chip")
    quote = chip.locator("blockquote.quote")
    expect(chip.locator("summary .doc-title")).to_be_visible()
    expect(quote).to_be_hidden()  # the quote is not repeated under the answer until asked for
    open_chip(turn)
    expect(quote).to_be_visible()
    answer = normalized(turn.locator(".answer .text").inner_text())
    assert normalized(quote.inner_text()) in answer
    expect(chip.locator("a.open")).to_be_visible()


def test_a_marker_opens_its_source_chip(page):
    turn = ask(page, BENEFITS, 1)
    turn.locator(".answer a.marker").first.click()
    chip = turn.locator("li.citation").first.locator("details.chip")
    expect(chip).to_have_attribute("open", "")
    expect(chip.locator("summary")).to_be_focused()


def test_follow_up_is_resolved_against_earlier_question(page, base_url):
    ask(page, US, 1)
    turn = ask(page, "And in Canada?", 2)
    expect(turn.locator(".answer .text")).to_contain_text("970")
    # "Read as" only when the API says the reading changed the question's words (a missing
    # read_as, before the API has it, is null).
    first = httpx.post(f"{base_url}/api/ask", json={"question": US}, timeout=30).json()
    history = [{"question": US, "answer": first["answer"]}]
    data = httpx.post(
        f"{base_url}/api/ask", json={"question": "And in Canada?", "history": history}, timeout=30
    ).json()
    if data.get("read_as"):
        expect(turn.locator(".resolved")).to_have_text(f"Read as: {data['read_as']}")
    else:
        expect(turn.locator(".resolved")).to_have_count(0)


def test_conversation_screenshot(page):
    ask(page, US, 1)
    expect(ask(page, "And in Canada?", 2)).to_contain_text("970")
    expect(ask(page, DECLINED, 3)).to_have_class(re.compile(r"\bdeclined\b"))
    screenshot(page, "chat.png")


def test_open_in_source_marks_quote_in_view(page):
    turn = ask(page, BENEFITS, 1)
    card = turn.locator("li.citation").first
    quote = card.locator("blockquote.quote").text_content()
    open_chip(turn)
    card.locator("a.open").click()
    page.wait_for_url(re.compile(r"/documents/.+start=\d+&end=\d+"))
    mark = page.locator("mark#cited")
    expect(mark).to_have_text(quote)
    expect(mark).to_be_in_viewport()
    screenshot(page, "source.png", full_page=False)
    page.get_by_role("link", name="Back to the chat").last.click()
    expect(page.locator("#question")).to_be_visible()
    expect(page.locator("article.turn")).to_have_count(1)  # the chat it came from


def test_markup_in_question_is_shown_as_text(page):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    payload = "<img src=x onerror=alert(1)>"
    turn = ask(page, payload, 1)
    expect(turn.locator(".question")).to_contain_text(payload)
    expect(page.locator("#conversation img")).to_have_count(0)
    page.wait_for_timeout(300)
    assert dialogs == []


def test_chat_works_without_javascript(browser, base_url):
    page = new_page(browser, base_url, java_script_enabled=False)
    try:
        page.goto("/")
        page.fill("#question", BENEFITS)
        page.click("#ask-button")
        first = page.locator("article.turn#t1")
        expect(first.locator(".answer .text")).to_contain_text("South Korea")
        expect(first.locator("li.citation").first).to_be_visible()

        page.fill("#question", US)
        page.click("#ask-button")
        expect(page.locator("article.turn#t2")).to_be_visible()
        page.fill("#question", "And in Canada?")
        page.click("#ask-button")
        third = page.locator("article.turn#t3")
        expect(third.locator(".answer .text")).to_contain_text("970")
        # The chat is in the URL: reload, and Back from the source, keep it.
        asked = [BENEFITS, US, "And in Canada?"]
        assert parse_qs(urlsplit(page.url).query)["q"] == asked
        page.reload()
        expect(page.locator("article.turn")).to_have_count(3)
        open_chip(first)
        first.locator("a.open").click()
        expect(page.locator("mark#cited")).to_be_visible()
        page.go_back()
        expect(page.locator("article.turn")).to_have_count(3)
        expect(page.locator("article.turn#t3 .answer .text")).to_contain_text("970")
        screenshot(page, "chat-nojs.png")
    finally:
        page.context.close()


def test_keyboard_only_focus_newline_and_send(page):
    textarea = page.locator("#question")
    for _ in range(20):
        page.keyboard.press("Tab")
        if textarea.evaluate("el => el === document.activeElement"):
            break
    expect(textarea).to_be_focused()
    page.keyboard.type("What benefits does")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("South Korea offer?")
    expect(textarea).to_have_value("What benefits does\nSouth Korea offer?")
    page.wait_for_timeout(300)
    expect(page.locator("#conversation article.turn")).to_have_count(0)
    expect(page.locator("#conversation .pending")).to_have_count(0)
    page.keyboard.press("Enter")
    expect(page.locator("article.turn#t1 li.citation").first).to_be_visible()


def test_new_chat_clears_conversation_and_history(page):
    ask(page, US, 1)
    page.click("#new-chat")
    expect(page.locator("#conversation article.turn")).to_have_count(0)
    assert urlsplit(page.url).query == ""
    page.reload()
    expect(page.locator("#question")).to_be_visible()
    expect(page.locator("#conversation article.turn")).to_have_count(0)
    turn = ask(page, "And in Canada?", 1)
    resolved = turn.locator(".resolved")
    if resolved.count():
        assert "settled in Canada" not in resolved.inner_text()
    expect(page.locator("#conversation article.turn")).to_have_count(1)


def test_example_question_gets_answer(page):
    example = page.locator("button.example").first
    expect(example).to_be_visible()
    example.click()
    turn = page.locator("article.turn#t1")
    expect(turn).not_to_have_class(re.compile(r"\bdeclined\b"))
    expect(turn.locator("li.citation").first).to_be_visible()
    expect(turn.locator(".question")).to_contain_text(example.inner_text())


def test_a_decline_says_what_is_missing_and_lists_the_closest_passages(page, base_url):
    data = httpx.post(f"{base_url}/api/ask", json={"question": DECLINED}, timeout=30).json()
    assert data["answered"] is False
    turn = ask(page, DECLINED, 1)
    expect(turn).to_have_class(re.compile(r"\bdeclined\b"))
    expect(turn.locator(".answer .text")).to_have_text(data["answer"])
    expect(turn.locator("h2.citations-title")).to_have_text("Closest passages")
    items = turn.locator("li.citation")
    expect(items).to_have_count(len(data["citations"]))
    for i, c in enumerate(data["citations"]):
        item = items.nth(i)
        best = c["best"]  # the closest passage's best sentence: what is shown
        expect(item.locator("blockquote.quote")).to_have_text(best["text"])
        expect(item.locator(".where")).to_contain_text(c["title"])
        expect(item.locator("a.open")).to_be_visible()
        more = item.locator("details.more")
        if best["text"] == c["quote"]:
            # The passage is no more than its best sentence: nothing to expand.
            expect(more).to_have_count(0)
            continue
        more.locator("summary").click()
        passage = more.locator("blockquote.passage")
        expect(passage).to_have_text(c["quote"])
        expect(passage.locator("mark.best")).to_have_text(best["text"])
        expect(item.locator("blockquote.quote")).to_be_hidden()  # not shown twice
        expect(more.locator("summary")).to_have_text("Less", use_inner_text=True)


def test_mobile_width_has_no_horizontal_scroll(browser, base_url):
    page = new_page(browser, base_url, viewport={"width": 375, "height": 740})
    try:
        page.goto("/")
        turn = ask(page, BENEFITS, 1)
        open_chip(turn)
        declined = ask(page, DECLINED, 2)
        for more in declined.locator("details.more summary").all():
            more.click()
        declined.locator("details.meta summary").click()
        page.fill("#question", "x" * 1234)
        expect(page.locator("#question-length")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        screenshot(page, "chat-mobile.png")
    finally:
        page.context.close()


def test_no_console_errors_on_chat_and_source(page):
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.reload()
    turn = ask(page, BENEFITS, 1)
    open_chip(turn)
    turn.locator("a.open").first.click()
    expect(page.locator("mark#cited")).to_be_visible()
    page.wait_for_load_state("load")
    assert errors == []


def test_asking_about_one_document_from_its_source_view(browser, library_url):
    from conftest import CORPUS_DOC, STEAM_DOC

    page = new_page(browser, library_url)
    try:
        page.goto(f"/documents/{STEAM_DOC}")
        page.click("#ask-document")
        expect(page.locator("#scope")).to_contain_text("Steam engine")
        expect(page.locator("#scope cite")).to_have_count(1)
        turn = ask(page, "Who invented the atmospheric engine?", 1)
        expect(turn.locator(".answer .text")).to_contain_text("Newcomen")
        titles = turn.locator(".doc-title")
        expect(titles.first).to_be_visible()
        assert set(titles.all_inner_texts()) == {"Steam engine"}
        # Within the defectors article, the same question is declined.
        page.goto(f"/?doc_ids={CORPUS_DOC}")
        turn = ask(page, "Who invented the atmospheric engine?", 1)
        expect(turn).to_have_class(re.compile(r"\bdeclined\b"))
        screenshot(page, "chat-scoped.png")
        page.click("#clear-scope")
        expect(page.locator("#scope")).to_have_count(0)
        turn = ask(page, "Who invented the atmospheric engine?", 1)
        expect(turn.locator(".answer .text")).to_contain_text("Newcomen")
    finally:
        page.context.close()


def test_asking_about_one_document_without_javascript(browser, library_url):
    from conftest import STEAM_DOC

    page = new_page(browser, library_url, java_script_enabled=False)
    try:
        page.goto(f"/documents/{STEAM_DOC}")
        page.click("#ask-document")
        expect(page.locator("#scope")).to_contain_text("Steam engine")
        page.fill("#question", "Who invented the atmospheric engine?")
        page.click("#ask-button")
        first = page.locator("article.turn#t1")
        expect(first.locator(".answer .text")).to_contain_text("Newcomen")
        # The scope holds for the next turn too, and is still shown.
        page.fill("#question", "What did James Watt improve?")
        page.click("#ask-button")
        expect(page.locator("article.turn#t2")).to_be_visible()
        expect(page.locator("#scope")).to_contain_text("Steam engine")
        expect(page.locator("article.turn .doc-title").first).to_have_text("Steam engine")
        page.click("#clear-scope")
        expect(page.locator("#scope")).to_have_count(0)
    finally:
        page.context.close()


def refuse_other_origins(page, base_url):
    """Every request to anywhere but the server is refused; returns the list of them."""
    refused = []

    def route(r):
        if r.request.url.startswith(base_url + "/"):
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    page.context.route("**/*", route)
    return refused


def test_api_docs_work_offline_under_the_strict_policy(browser, base_url):
    page = new_page(browser, base_url)
    refused = refuse_other_origins(page, base_url)
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        response = page.goto("/docs")
        assert "script-src 'self';" in response.headers["content-security-policy"]
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("qa")
        for path in ("/api/ask", "/api/search", "/v1/chat/completions", "/v1/models"):
            expect(page.locator(f".opblock-summary-path[data-path='{path}']")).to_be_visible()
        # An operation opens, with its schema rendered from the served OpenAPI document.
        page.locator(".opblock-summary-path[data-path='/api/ask']").click()
        opened = page.locator(".opblock.is-open")
        expect(opened.locator(".opblock-description-wrapper").first).to_contain_text(
            "verbatim citations"
        )
        expect(opened.locator(".model-example").first).to_contain_text("question")
        screenshot(page, "docs.png", full_page=False)
        assert refused == [] and problems == []
    finally:
        page.context.close()


def test_signing_in_with_a_key_opens_the_chat(browser, settings, pipeline):
    from conftest import served

    key = "sk-browser-5e1d"
    with served(settings.model_copy(update={"api_keys": key}), pipeline) as url:
        page = new_page(browser, url)
        problems = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        try:
            page.goto("/")
            expect(page.locator("h1")).to_have_text("Sign in")
            page.fill("#key", "sk-wrong")
            page.press("#key", "Enter")
            expect(page.locator(".signin .error")).to_have_text("That key is not valid.")
            page.fill("#key", key)
            page.press("#key", "Enter")
            expect(page).to_have_url(f"{url}/")
            turn = ask(page, "What benefits does South Korea offer?", 1)
            expect(turn.locator("li.citation").first).to_be_visible()
            page.click("form.signout button")
            expect(page.locator("h1")).to_have_text("Sign in")
            assert problems == []
        finally:
            page.context.close()


# --- the short answer, marked inside its quote ------------------------------------------------

# The text of what precedes the short answer's mark in its quote.
TEXT_BEFORE_MARK = """quote => {
  const range = document.createRange();
  range.setStart(quote, 0);
  range.setEndBefore(quote.querySelector("mark.short"));
  return range.toString();
}"""


def assert_short_answer_marked(page, turn, base_url, question, width):
    """The short answer that `POST /api/ask` returns is marked in the first quote at its
    offsets and where the answer quotes it: bold on the highlight, named to screen readers,
    and the page no wider than the window."""
    data = httpx.post(f"{base_url}/api/ask", json={"question": question}).json()
    short, first = data["short_answer"], data["citations"][0]
    assert short is not None
    # First, in bold, above the quoted sentence.
    lead = turn.locator(".answer > p").first
    expect(lead).to_have_class("short-answer")
    expect(lead.locator("strong")).to_have_text(short["text"])
    assert lead.locator("strong").evaluate("m => getComputedStyle(m).fontWeight") == "700"
    open_chip(turn)
    quote = turn.locator("li.citation").first.locator("blockquote.quote")
    mark = quote.locator("mark.short")
    expect(mark).to_have_count(1)
    expect(mark).to_have_text(short["text"])
    expect(mark).to_be_visible()
    assert quote.text_content() == first["quote"]  # the quote is whole, the mark inside it
    assert quote.evaluate(TEXT_BEFORE_MARK) == first["quote"][: short["start"] - first["start"]]
    expect(turn.locator(".answer .text mark.short")).to_have_text(short["text"])
    expect(turn.locator("mark.short")).to_have_count(2)
    assert mark.evaluate("m => getComputedStyle(m).fontWeight") == "700"
    # Screen readers hear it named (the accessibility tree), sighted readers see it bold.
    heard = re.escape(f"(short answer: {short['text']}") + r"\s*\)"
    assert re.search(f'- mark: "{heard}"', quote.aria_snapshot())
    assert "(short answer: " not in quote.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [1280, 375])
def test_the_short_answer_is_marked_inside_its_quote(browser, base_url, width):
    page = new_page(browser, base_url, viewport={"width": width, "height": 800})
    try:
        page.goto("/")
        turn = ask(page, CANADA, 1)
        assert_short_answer_marked(page, turn, base_url, CANADA, width)
        declined = ask(page, DECLINED, 2)
        expect(declined.locator("mark.short")).to_have_count(0)
        screenshot(page, "chat-short.png")
    finally:
        page.context.close()


def test_the_short_answer_is_marked_without_javascript(browser, base_url):
    page = new_page(
        browser, base_url, java_script_enabled=False, viewport={"width": 375, "height": 800}
    )
    try:
        page.goto("/")
        page.fill("#question", CANADA)
        page.click("#ask-button")
        turn = page.locator("article.turn#t1")
        assert_short_answer_marked(page, turn, base_url, CANADA, 375)
        screenshot(page, "chat-short-nojs.png")
    finally:
        page.context.close()


def test_a_short_answer_that_looks_like_markup_is_shown_as_text(
    browser, markup_settings, markup, with_short_answer
):
    with_short_answer(MARKUP_SHORT)
    with served(markup_settings, markup) as url:
        page = new_page(browser, url)
        dialogs = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        try:
            page.goto("/")
            turn = ask(page, MARKUP_QUESTION, 1)
            assert_short_answer_marked(page, turn, url, MARKUP_QUESTION, 1280)
            expect(turn.locator("mark.short").first).to_have_text("<b>5 cents</b> &")
            expect(page.locator("#conversation b, #conversation gate")).to_have_count(0)
            screenshot(page, "chat-short-markup.png", full_page=False)
            assert dialogs == []
        finally:
            page.context.close()


# --- the chat survives navigation -------------------------------------------------------------


def count_asks(page):
    """The requests to /api/ask the page sends from now on."""
    sent = []
    page.on("request", lambda r: sent.append(r) if r.url.endswith("/api/ask") else None)
    return sent


def questions_shown(page):
    return [
        normalized(q.removeprefix("You asked"))
        for q in page.locator("article.turn .question").all_inner_texts()
    ]


def test_back_after_open_in_source_keeps_the_turns(page):
    ask(page, BENEFITS, 1)
    ask(page, DECLINED, 2)
    third = ask(page, CANADA, 3)
    answers = page.locator("article.turn .answer").all_inner_texts()
    open_chip(third)
    third.locator("a.open").click()
    expect(page.locator("mark#cited")).to_be_visible()
    asks = count_asks(page)
    page.go_back()
    expect(page.locator("article.turn")).to_have_count(3)
    assert questions_shown(page) == [BENEFITS, DECLINED, CANADA]
    assert page.locator("article.turn .answer").all_inner_texts() == answers
    # Back where the reader left: the cited source open, in view, its link focused.
    cited = page.locator("#c3-1")
    expect(cited.locator("details.chip")).to_have_attribute("open", "")
    expect(cited).to_be_in_viewport()
    expect(cited.locator("a.open")).to_be_focused()
    assert asks == []  # kept, not asked again
    # The chat goes on with its history.
    expect(ask(page, "And in the US?", 4).locator(".answer .text")).not_to_be_empty()


def test_the_source_views_back_link_returns_to_the_chat(page):
    turn = ask(page, CANADA, 1)
    open_chip(turn)
    turn.locator("a.open").click()
    page.get_by_role("link", name="Back to the chat").first.click()
    expect(page.locator("article.turn")).to_have_count(1)
    expect(page.locator("#c1-1")).to_be_in_viewport()


def test_reload_keeps_the_turns_and_the_feedback_given(page):
    page.route("**/api/feedback", lambda r: r.fulfill(status=201, json={"id": 1}))
    ask(page, US, 1)
    turn = ask(page, "And in Canada?", 2)
    turn.get_by_role("button", name="Helpful", exact=True).click()
    expect(turn.locator(".feedback-status")).to_have_text("Thanks for your feedback.")
    asks = count_asks(page)
    page.reload()
    expect(page.locator("article.turn")).to_have_count(2)
    assert questions_shown(page) == [US, "And in Canada?"]
    again = page.locator("article.turn#t2")
    expect(again.locator(".answer .text")).to_contain_text("970")
    expect(again.locator(".feedback-status")).to_have_text("Thanks for your feedback.")
    expect(again.get_by_role("button", name="Helpful", exact=True)).to_be_disabled()
    assert asks == []


def test_a_shared_link_shows_the_same_questions_answered(browser, base_url, page):
    ask(page, US, 1)
    mine = ask(page, "And in Canada?", 2).locator(".answer .text").inner_text()
    link = page.url
    assert parse_qs(urlsplit(link).query)["q"] == [US, "And in Canada?"]
    other = new_page(browser, base_url)  # another browser: nothing in its storage
    try:
        other.goto(link)
        expect(other.locator("article.turn")).to_have_count(2)
        assert questions_shown(other) == [US, "And in Canada?"]
        expect(other.locator("article.turn#t2 .answer .text")).to_have_text(mine)
        # It is a chat there too: a follow-up is read with its history.
        expect(ask(other, "And in the US?", 3)).to_be_visible()
        assert parse_qs(urlsplit(other.url).query)["q"][:2] == [US, "And in Canada?"]
    finally:
        other.context.close()


# --- feedback -------------------------------------------------------------------------------


def capture_feedback(page, status=201):
    """Every POST /api/feedback the page sends, answered `status` here (the endpoint itself
    is tested with the API)."""
    sent = []

    def route(r):
        sent.append(json.loads(r.request.post_data))
        body = {"id": len(sent)} if status == 201 else {"detail": "the feedback store is busy"}
        r.fulfill(status=status, json=body)

    page.route("**/api/feedback", route)
    return sent


def stored_turns(page):
    """The turns the page keeps (the API's answers), oldest first."""
    return page.evaluate(
        """() => {
          const id = new URLSearchParams(location.search).get("chat");
          return JSON.parse(sessionStorage.getItem("qa.chat." + id)).turns.map(t => t.data);
        }"""
    )


def test_helpful_sends_the_question_history_answer_and_citations(page):
    sent = capture_feedback(page)
    ask(page, US, 1)
    turn = ask(page, "And in Canada?", 2)
    first, second = stored_turns(page)
    turn.get_by_role("button", name="Helpful", exact=True).click()
    expect(turn.locator(".feedback-status")).to_have_text("Thanks for your feedback.")
    assert sent == [
        {
            "question": "And in Canada?",
            "history": [{"question": US, "answer": first["answer"]}],
            "answer": second["answer"],
            "answered": second["answered"],
            "citations": second["citations"],
            "rating": "up",
        }
    ]
    for name in ("Helpful", "Not helpful"):
        expect(turn.get_by_role("button", name=name, exact=True)).to_be_disabled()
    expect(turn.locator(".feedback-status")).to_be_focused()  # not lost with the button


def test_not_helpful_then_a_source_that_answers_it(page):
    sent = capture_feedback(page)
    turn = ask(page, BENEFITS, 1)
    expect(turn.get_by_role("button", name="This answers it")).to_have_count(0)
    turn.get_by_role("button", name="Not helpful").click()
    expect(turn.locator(".feedback-status")).to_contain_text("choose “This answers it”")
    (data,) = stored_turns(page)
    assert sent[0]["rating"] == "down" and "doc_id" not in sent[0]
    choose = turn.locator("li.citation").first.get_by_role("button", name="This answers it")
    expect(choose).to_be_visible()  # the sources opened, to choose from
    expect(choose).to_be_focused()  # the keyboard's place: the next thing to do
    choose.click()
    expect(turn.locator(".feedback-status")).to_have_text(
        "Thanks: the passage you chose is noted as the answer."
    )
    c = data["citations"][0]
    assert sent[1] == {
        "question": BENEFITS,
        "history": [],
        "answer": data["answer"],
        "answered": True,
        "citations": data["citations"],
        "rating": "down",
        "doc_id": c["doc_id"],
        "start": c["start"],
        "end": c["end"],
    }
    expect(turn.get_by_role("button", name="Chosen as the answer")).to_be_disabled()


def test_a_closest_passage_of_a_decline_can_be_chosen(page):
    sent = capture_feedback(page)
    turn = ask(page, DECLINED, 1)
    (data,) = stored_turns(page)
    chosen = data["citations"][1]
    turn.locator("li.citation").nth(1).get_by_role("button", name="This answers it").click()
    expect(turn.locator(".feedback-status")).to_contain_text("noted as the answer")
    assert len(sent) == 1
    assert {k: sent[0][k] for k in ("rating", "doc_id", "start", "end")} == {
        "rating": "down",  # the decline was wrong
        "doc_id": chosen["doc_id"],  # the sentence shown for the passage is the one chosen
        "start": chosen["best"]["start"],
        "end": chosen["best"]["end"],
    }
    assert sent[0]["question"] == DECLINED and sent[0]["answer"] == data["answer"]
    assert sent[0]["answered"] is False
    for button in turn.locator(".feedback button, button.choose").all():
        expect(button).to_be_disabled()


def test_a_chosen_passage_reaches_the_real_store_and_exports_as_gold(page, settings):
    """No interception: the page posts to the real endpoint, which keeps the verdict in the
    index's SQLite store, and the export makes the chosen sentence the gold answer."""
    store = FeedbackStore(settings.feedback_path)
    before = len(store.all())
    turn = ask(page, DECLINED, 1)
    (data,) = stored_turns(page)
    chosen = data["citations"][0]
    turn.locator("li.citation").first.get_by_role("button", name="This answers it").click()
    expect(turn.locator(".feedback-status")).to_contain_text("noted as the answer")
    rows = store.all()
    assert len(rows) == before + 1
    row = rows[-1]
    assert (row.question, row.rating, row.answered) == (DECLINED, "down", False)
    assert row.span is not None and row.span.text == chosen["best"]["text"]
    (item,) = gold_items([row]).items
    assert item["answerable"] is True and item["answers"] == [chosen["best"]["text"]]
    assert item["doc"] == chosen["doc_id"] and item["question"] == DECLINED


def test_feedback_that_fails_says_so_and_can_be_sent_again(page):
    sent = capture_feedback(page, status=503)
    turn = ask(page, CANADA, 1)
    helpful = turn.get_by_role("button", name="Helpful", exact=True)
    helpful.click()
    status = turn.locator(".feedback-status")
    expect(status).to_have_text(
        "Your feedback could not be sent: the feedback store is busy. Please try again."
    )
    expect(status).to_have_class(re.compile(r"\berror\b"))
    expect(helpful).to_be_enabled()
    expect(helpful).to_be_focused()
    assert len(sent) == 1


# --- an over-long question ------------------------------------------------------------------


def test_an_over_long_paste_is_named_and_not_sent(page):
    asks = count_asks(page)
    text = "Why " + "x" * 1230  # 1,234 characters
    page.locator("#question").focus()
    page.keyboard.insert_text(text)  # as a paste: one input event
    message = "Your question is 1,234 characters long; the limit is 1,000."
    expect(page.locator("#question-length")).to_have_text(message)
    expect(page.locator("#question")).to_have_attribute("aria-invalid", "true")
    page.press("#question", "Enter")
    expect(page.locator("#ask-error")).to_have_text(message)
    page.wait_for_timeout(300)
    assert asks == []
    expect(page.locator("#conversation article.turn")).to_have_count(0)
    expect(page.locator("#question")).to_have_value(text)  # not cut
    page.fill("#question", text[:1000])
    expect(page.locator("#question-length")).to_be_hidden()
    expect(page.locator("#ask-error")).to_be_hidden()
