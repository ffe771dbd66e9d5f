"""The web chat in a real browser (Chromium via Playwright) against the real server."""

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from conftest import MARKUP_QUESTION, MARKUP_SHORT, REPO, served

ARTIFACTS = REPO / "artifacts"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 15_000
US = "How many North Koreans live in the US?"
CANADA = "How many North Koreans reside in Canada?"
DECLINED = "Who won the 2018 World Cup?"

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


@pytest.fixture
def page(browser, base_url):
    page = new_page(browser, base_url)
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
    """Saves a screenshot; a full page is taken from the bottom, so the sticky form sits last."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    if full_page:
        page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.screenshot(path=str(path), full_page=full_page)
    assert path.is_file() and path.stat().st_size > 0


def test_question_gets_answer_quoting_its_citation(page):
    turn = ask(page, "What benefits does South Korea offer?", 1)
    expect(turn).not_to_have_class(re.compile(r"\bdeclined\b"))
    cards = turn.locator("li.citation")
    expect(cards.first).to_be_visible()
    answer = normalized(turn.locator(".answer .text").inner_text())
    quote = normalized(cards.first.locator("blockquote.quote").inner_text())
    assert quote and quote in answer


def test_follow_up_is_resolved_against_earlier_question(page):
    ask(page, US, 1)
    turn = ask(page, "And in Canada?", 2)
    expect(turn.locator(".answer .text")).to_contain_text("970")
    expect(turn.locator(".resolved")).to_have_text(
        "Read as: How many North Koreans live in Canada?"
    )


def test_conversation_screenshot(page):
    ask(page, US, 1)
    expect(ask(page, "And in Canada?", 2)).to_contain_text("970")
    expect(ask(page, DECLINED, 3)).to_have_class(re.compile(r"\bdeclined\b"))
    screenshot(page, "chat.png")


def test_open_in_source_marks_quote_in_view(page):
    card = ask(page, "What benefits does South Korea offer?", 1).locator("li.citation").first
    quote = card.locator("blockquote.quote").text_content()
    card.locator("a.open").click()
    page.wait_for_url(re.compile(r"/documents/.+start=\d+&end=\d+"))
    mark = page.locator("mark#cited")
    expect(mark).to_have_text(quote)
    expect(mark).to_be_in_viewport()
    screenshot(page, "source.png", full_page=False)
    page.get_by_role("link", name="Back to the chat").last.click()
    expect(page.locator("#question")).to_be_visible()


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
        page.fill("#question", "What benefits does South Korea offer?")
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
        expect(third.locator(".resolved")).to_contain_text("live in Canada")
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


def test_unanswerable_question_is_declined(page):
    turn = ask(page, DECLINED, 1)
    expect(turn).to_have_class(re.compile(r"\bdeclined\b"))
    expect(turn.locator(".answer .text")).to_have_text("The corpus doesn't say.")
    expect(turn.locator("h2.citations-title")).to_have_text("Closest passages")


def test_mobile_width_has_no_horizontal_scroll(browser, base_url):
    page = new_page(browser, base_url, viewport={"width": 375, "height": 740})
    try:
        page.goto("/")
        ask(page, "What benefits does South Korea offer?", 1)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        screenshot(page, "chat-mobile.png")
    finally:
        page.context.close()


def test_no_console_errors_on_chat_and_source(page):
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.reload()
    turn = ask(page, "What benefits does South Korea offer?", 1)
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
        expect(declined.locator("mark")).to_have_count(0)
        screenshot(page, f"chat-short-{width}.png")
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
        screenshot(page, "chat-short-nojs-375.png")
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
