"""The chat page and source view through FastAPI's client: templates, escaping, headers."""

import json
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from conftest import (
    CORPUS_DOC,
    MARKUP_QUESTION,
    MARKUP_SHORT,
    write_corpus,
)
from qa.config import Settings
from qa.interfaces.http import create_app
from qa.interfaces.http.schemas import MAX_QUESTION_CHARS
from qa.pipeline import Pipeline, build

QUOTE_970 = (
    "As of 2016, an estimated 970 North Koreans reside in Canada "
    "(with about half of whom arrived before 1980)."
)
CANADA = "How many North Koreans reside in Canada?"
US = "How many North Koreans live in the US?"
DECLINED = "Who won the 2018 World Cup?"


def post(client, question, history=()):
    return client.post("/", data={"question": question, "history": list(history)})


SHORT = '<mark class="short">'


def first_quote_html(html):
    found = re.search(r'id="c1-1"[^>]*>.*?<blockquote class="quote">(.*?)</blockquote>', html, re.S)
    assert found, "no first citation"
    return found.group(1)


def answer_html(html):
    found = re.search(r'<p class="text">(.*?)</p>', html, re.S)
    assert found, "no answer"
    return found.group(1)


def turn_html(html, n):
    found = re.search(rf'<article class="turn[^"]*" id="t{n}".*?</article>', html, re.S)
    assert found, f"no turn {n}"
    return found.group(0)


def text_of(html):
    return unescape(re.sub(r"<[^>]+>", "", html))


def test_chat_page_introduces_the_corpus_and_offers_examples(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "Destinations of North Korean Defectors" in html
    buttons = re.findall(r'<button type="submit" class="example"[^>]*value="([^"]+)"', html)
    assert 3 <= len(buttons) <= 4
    assert '<label for="question">' in html
    assert 'aria-live="polite"' in html


def test_posted_question_renders_the_answer_with_marker_links_and_cards(client):
    html = post(client, "How many North Koreans reside in Canada?").text
    assert '<a class="marker" href="#c1-1">[1]</a>' in html
    assert 'id="c1-1"' in html
    assert unescape(QUOTE_970) in unescape(html)
    start = client.get(f"/api/documents/{CORPUS_DOC}").json()["text"].index(QUOTE_970)
    link = f"/documents/{CORPUS_DOC}?start={start}&amp;end={start + len(QUOTE_970)}#cited"
    assert link in html


def test_posted_follow_up_uses_the_earlier_questions(client):
    html = post(client, "And in Canada?", [US]).text
    assert html.count('<article class="turn') == 2
    assert "970" in turn_html(html, 2)
    # The next form carries both questions forward.
    assert html.count('name="history" value=') >= 2


def test_read_as_is_shown_as_the_api_gives_it(client):
    first = client.post("/api/ask", json={"question": US}).json()
    history = [{"question": US, "answer": first["answer"]}]
    data = client.post("/api/ask", json={"question": "And in Canada?", "history": history}).json()
    second = turn_html(post(client, "And in Canada?", [US]).text, 2)
    if data.get("read_as") is None:  # missing, before the API has it, is null
        assert "Read as" not in second
    else:
        assert f'<p class="resolved">Read as: {escape(data["read_as"])}</p>' in second


def test_read_as_is_not_shown_when_the_question_was_read_as_asked(client):
    html = post(client, CANADA).text
    assert "970" in html and "Read as" not in html


def test_posted_question_leads_to_the_chats_own_url(client):
    response = client.post(
        "/", data={"question": "And in Canada?", "history": [US]}, follow_redirects=False
    )
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/" and location.fragment == "t2"
    assert parse_qs(location.query) == {"q": [US, "And in Canada?"]}


def test_the_chats_url_answers_its_questions_in_order(client):
    response = client.get("/", params={"q": [US, "And in Canada?"]})
    assert response.status_code == 200
    html = response.text
    assert html.count('<article class="turn') == 2
    assert US in turn_html(html, 1)
    assert "970" in turn_html(html, 2)  # the follow-up read with the question before it
    assert re.findall(r'name="history" value="([^"]*)"', html)[:2] == [US, "And in Canada?"]


def test_a_turn_carries_the_apis_answer_for_the_script(client):
    data = client.post("/api/ask", json={"question": CANADA}).json()
    html = post(client, CANADA).text
    carried = json.loads(unescape(re.search(r'data-turn="([^"]*)"', html).group(1)))
    del carried["took_ms"], data["took_ms"]
    assert carried == data


def test_the_short_answer_comes_first_in_bold(client):
    data = client.post("/api/ask", json={"question": CANADA}).json()
    answer = re.search(r'<div class="answer">(.*?)</div>', post(client, CANADA).text, re.S)
    lead = f'<p class="short-answer"><strong>{escape(data["short_answer"]["text"])}</strong></p>'
    assert answer and answer.group(1).strip().startswith(lead)


def test_sources_are_chips_that_open_to_the_quote(client):
    data = client.post("/api/ask", json={"question": CANADA}).json()
    html = post(client, CANADA).text
    for c in data["citations"]:
        item = re.search(rf'<li class="citation" id="c1-{c["n"]}"[^>]*>(.*?)</li>', html, re.S)
        assert item, f"no chip for citation {c['n']}"
        chip = re.fullmatch(
            r'\s*<details class="chip">\s*<summary class="where">(.*?)</summary>(.*)</details>\s*',
            item.group(1),
            re.S,
        )
        assert chip, "the citation is not a <details> chip, closed"
        assert text_of(chip.group(1)) == f"[{c['n']}] {c['title']} · {c['section']}"
        opened = text_of(chip.group(2))
        assert c["quote"] in opened and "Open in source" in opened
    # The quotes are in the chips only: the answer is not repeated under it.
    assert html.count('<blockquote class="quote">') == len(data["citations"])


def test_latency_and_confidence_are_behind_a_details_toggle(client):
    data = client.post("/api/ask", json={"question": CANADA}).json()
    html = turn_html(post(client, CANADA).text, 1)
    meta = re.search(
        r'<details class="meta">\s*<summary>Details</summary>(.*?)</details>', html, re.S
    )
    assert meta and f"confidence {data['confidence']:.2f}" in meta.group(1)
    shown = re.sub(r'data-turn="[^"]*"', "", html)
    assert shown.count("confidence") == 1 and shown.count(" ms") == 1


def test_declined_answer_says_what_is_missing_then_the_closest_passages(client):
    data = client.post("/api/ask", json={"question": DECLINED}).json()
    assert data["answered"] is False
    html = post(client, DECLINED).text
    assert 'class="turn declined"' in html
    assert f'<p class="text not-found">{escape(data["answer"])}</p>' in html
    assert '<h2 class="citations-title">Closest passages</h2>' in html
    assert SHORT not in html
    quotes = re.findall(r'<blockquote class="quote">(.*?)</blockquote>', html, re.S)
    assert [unescape(q) for q in quotes] == [c["best"]["text"] for c in data["citations"]]


def test_a_closest_passage_opens_to_the_whole_passage(client):
    data = client.post("/api/ask", json={"question": DECLINED}).json()
    html = post(client, DECLINED).text
    mores = re.findall(
        r'<details class="more">\s*<summary>.*?</summary>\s*<blockquote class="passage">(.*?)'
        r"</blockquote>",
        html,
        re.S,
    )
    # Each closest passage longer than its best sentence offers "More": the whole passage
    # (the citation's quote), its best sentence marked.
    longer = [c for c in data["citations"] if c["best"]["text"] != c["quote"]]
    assert len(mores) == len(longer)
    for c, more in zip(longer, mores, strict=True):
        assert text_of(more) == c["quote"]
        best = re.search(r'<mark class="best">(.*?)</mark>', more, re.S)
        assert best and unescape(best.group(1)) == c["best"]["text"]


def test_posted_question_emphasises_the_short_answer_in_its_first_quote(client):
    question = "How many North Koreans reside in Canada?"
    data = client.post("/api/ask", json={"question": question}).json()
    short, first = data["short_answer"], data["citations"][0]
    lo, hi = short["start"] - first["start"], short["end"] - first["start"]
    quote = first["quote"]
    assert quote[lo:hi] == short["text"]
    marked = f"{escape(quote[:lo])}{SHORT}{escape(short['text'])}</mark>{escape(quote[hi:])}"
    html = post(client, question).text
    assert first_quote_html(html) == marked
    assert marked in answer_html(html)  # where the answer quotes it
    assert html.count(SHORT) == 2


def test_a_short_answer_that_looks_like_markup_is_escaped(
    markup_settings, markup, with_short_answer
):
    with_short_answer(MARKUP_SHORT)
    with TestClient(create_app(markup_settings, pipeline=markup)) as client:
        html = post(client, MARKUP_QUESTION).text
    marked = f"{SHORT}&lt;b&gt;5 cents&lt;/b&gt; &amp;</mark>"
    assert f"costs {marked} a smile, paid at the &lt;gate&gt;." in first_quote_html(html)
    assert marked in answer_html(html)
    assert "<b>" not in html and "<gate>" not in html


def test_empty_question_gets_the_page_with_an_error(client):
    response = post(client, "   ")
    assert response.status_code == 422
    assert 'role="alert">Please type a question.</p>' in response.text


def test_over_long_question_is_refused_naming_its_length_and_the_limit(client):
    question = "Why " + "x" * 1230  # 1,234 characters
    response = post(client, question, [US])
    assert response.status_code == 422
    message = f"Your question is 1,234 characters long; the limit is {MAX_QUESTION_CHARS:,}."
    assert f'role="alert">{message}</p>' in response.text
    # Given back whole, not cut, to be shortened; the earlier turn is still there.
    assert f">{question}</textarea>" in response.text
    textarea = re.search(r'<textarea id="question"[^>]*>', response.text).group(0)
    assert "maxlength" not in textarea
    assert response.text.count('<article class="turn') == 1


def test_over_long_question_in_a_chats_url_is_named_and_left_out(client):
    response = client.get("/", params={"q": [CANADA, "y" * 1001]})
    assert response.status_code == 422
    assert "Your question is 1,001 characters long" in response.text
    assert response.text.count('<article class="turn') == 1


def test_user_text_is_escaped(client):
    html = post(client, '<script>alert("x")</script><img src=x onerror=alert(1)>').text
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;" in html


def test_source_view_marks_the_cited_span(client):
    text = client.get(f"/api/documents/{CORPUS_DOC}").json()["text"]
    start = text.index(QUOTE_970)
    response = client.get(
        f"/documents/{CORPUS_DOC}", params={"start": start, "end": start + len(QUOTE_970)}
    )
    assert response.status_code == 200
    marks = re.findall(r"<mark[^>]*>(.*?)</mark>", response.text, re.S)
    assert [unescape(m) for m in marks] == [QUOTE_970]
    assert '<mark id="cited"' in response.text
    assert "<h1>Destinations of North Korean Defectors</h1>" in response.text
    assert "<h2>Canada</h2>" in response.text
    assert 'href="/"' in response.text


def test_source_views_back_link_returns_to_the_chat_it_came_from(client):
    chat = f"/?q={US.replace(' ', '+')}&chat=1a2b"
    source = f"/documents/{CORPUS_DOC}"
    html = client.get(source, headers={"referer": f"http://testserver{chat}"}).text
    assert html.count(f'href="{escape(chat)}">Back to the chat</a>') == 2
    for elsewhere in ("http://elsewhere.example/?q=x", "http://testserver/api/docs?q=x", ""):
        html = client.get(source, headers={"referer": elsewhere}).text
        assert html.count('href="/">Back to the chat</a>') == 2


def test_source_view_without_a_valid_span_shows_the_whole_document(client):
    html = client.get(f"/documents/{CORPUS_DOC}", params={"start": 50, "end": 10**7}).text
    assert "<mark" not in html
    assert "shown whole" in html


@pytest.mark.parametrize("doc_id", ["nope.txt", "..%2Fpyproject.toml", "%2E%2E/README.md"])
def test_source_view_of_unknown_documents_is_a_404_page(client, doc_id):
    response = client.get(f"/documents/{doc_id}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Not found" in response.text


@pytest.mark.parametrize(
    "path", ["/", f"/documents/{CORPUS_DOC}?start=0&end=5", "/nope", "/static/app.js"]
)
def test_security_headers_on_every_page(client, path):
    headers = client.get(path).headers
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "style-src 'self'" in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"


def test_pages_have_no_inline_script_or_style(client):
    for html in (client.get("/").text, post(client, "How many North Koreans live in Canada?").text):
        for tag in re.findall(r"<script[^>]*>", html):
            assert "src=" in tag
        assert not re.search(r"<script[^>]*>\s*[^<\s]", html)
        assert not re.search(r"\son[a-z]+=", html)
        assert "style=" not in html


def test_static_files_are_served(client):
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/style.css").status_code == 200


def test_corpus_text_with_markup_is_shown_as_text(tmp_path, embedder):
    corpus = write_corpus(
        tmp_path / "c",
        {"evil.txt": "Evil <b>Title</b>\n\n<script>alert(1)</script> Bold claims are made here.\n"},
    )
    settings = Settings(corpus=corpus, index=tmp_path / "i")
    build(settings, embedder=embedder)
    app = create_app(settings, pipeline=Pipeline.load(settings, embedder=embedder))
    with TestClient(app) as client:
        html = client.get("/documents/evil.txt").text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script>alert" not in html
        assert "Evil &lt;b&gt;Title&lt;/b&gt;" in client.get("/").text


# --- asking within one document ---------------------------------------------------------------


def test_source_view_offers_asking_about_the_document(library_client):
    from conftest import STEAM_DOC

    html = library_client.get(f"/documents/{STEAM_DOC}").text
    link = re.search(r'<a class="button" id="ask-document" href="([^"]+)"', html)
    assert link and unescape(link.group(1)) == f"/?doc_ids={STEAM_DOC}"


def test_scoped_chat_page_shows_the_scope_and_a_way_out(library_client):
    from conftest import STEAM_DOC

    html = library_client.get("/", params={"doc_ids": STEAM_DOC}).text
    scope = re.search(r'<p class="scope" id="scope">(.*?)</p>', html, re.S)
    assert scope and "Steam engine" in scope.group(1)
    assert "Destinations of North Korean Defectors" not in scope.group(1)
    assert '<a href="/" id="clear-scope">' in scope.group(1)
    # Every form asks within it; the examples come from its headings.
    assert html.count(f'name="doc_ids" value="{STEAM_DOC}"') == html.count("<form")
    assert re.search(r'id="new-chat" href="/\?doc_ids=steam-engine.txt"', html)
    assert 'placeholder="Ask about Steam engine…"' in html


def test_scoped_chat_without_javascript_answers_from_the_document_only(library_client):
    from conftest import STEAM_DOC

    question = "Who invented the atmospheric engine?"
    html = library_client.post("/", data={"question": question, "doc_ids": STEAM_DOC}).text
    assert "Newcomen" in html
    assert set(re.findall(r'class="doc-title">([^<]*)<', html)) == {"Steam engine"}
    html = library_client.post("/", data={"question": question, "doc_ids": CORPUS_DOC}).text
    assert 'class="turn declined"' in html
    assert html.count(f'name="doc_ids" value="{CORPUS_DOC}"') >= 1


def test_unscoped_chat_page_has_no_scope(library_client):
    html = library_client.get("/").text
    assert 'id="scope"' not in html and 'name="doc_ids"' not in html


def test_unknown_document_in_the_scope_is_named_and_the_whole_corpus_asked(library_client):
    response = library_client.get("/", params={"doc_ids": "zzz.txt"})
    assert response.status_code == 422
    assert "zzz.txt" in unescape(response.text) and "whole corpus" in response.text
    assert 'name="doc_ids"' not in response.text
