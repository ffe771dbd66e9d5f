"""API keys, the page session, and CORS, against the real server."""

import logging
import re

import httpx
import openai
import pytest

from conftest import served
from qa.interfaces.cli import exposure_warning
from qa.interfaces.http.auth import KeyRing, read_keys

KEYS = ["sk-first-3f9a2c", "sk-second-77d1e0"]
QUESTION = {"question": "What benefits does South Korea offer?"}


@pytest.fixture(scope="module")
def keyed_url(settings, pipeline):
    with served(settings.model_copy(update={"api_keys": ",".join(KEYS)}), pipeline) as url:
        yield url


def test_the_openai_client_needs_a_key(keyed_url):
    for key in KEYS:
        chat = openai.OpenAI(base_url=f"{keyed_url}/v1", api_key=key, max_retries=0)
        reply = chat.chat.completions.create(
            model="qa",
            messages=[{"role": "user", "content": "What benefits does South Korea offer?"}],
        )
        assert reply.model_extra["qa"]["answered"] is True
        assert [m.id for m in chat.models.list()] == ["qa"]
    wrong = openai.OpenAI(base_url=f"{keyed_url}/v1", api_key="sk-guess", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        wrong.chat.completions.create(model="qa", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.body["code"] == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError):
        wrong.models.list()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer sk-guess"},
        {"Authorization": f"Basic {KEYS[0]}"},
        {"Authorization": f"Bearer {KEYS[0]}x"},
        {"Authorization": "Bearer"},
    ],
)
def test_every_route_but_health_refuses_without_a_valid_key(keyed_url, headers):
    routes = [
        ("POST", "/api/ask", QUESTION),
        ("GET", "/api/search?q=housing", None),
        ("GET", "/api/documents/destinations-of-north-korean-defectors.txt", None),
        ("GET", "/openapi.json", None),
        ("GET", "/v1/models", None),
        ("POST", "/ask", None),
    ]
    for method, path, body in routes:
        response = httpx.request(method, keyed_url + path, json=body, headers=headers)
        assert response.status_code == 401, path
        assert "sk-" not in response.text
        assert response.headers["www-authenticate"] == "Bearer"
    assert httpx.get(f"{keyed_url}/api/health", headers=headers).status_code == 200


def test_a_bearer_key_opens_the_api(keyed_url):
    headers = {"Authorization": f"Bearer {KEYS[1]}"}
    response = httpx.post(f"{keyed_url}/api/ask", json=QUESTION, headers=headers)
    assert response.status_code == 200 and response.json()["answered"] is True
    assert httpx.get(f"{keyed_url}/openapi.json", headers=headers).status_code == 200


def test_pages_ask_for_a_key_and_a_session_opens_them(keyed_url):
    with httpx.Client(base_url=keyed_url) as browser:
        page = browser.get("/documents/destinations-of-north-korean-defectors.txt?start=0&end=9")
        assert page.status_code == 401 and 'action="/signin"' in page.text
        next_url = re.search(r'name="next" value="([^"]+)"', page.text).group(1)
        assert next_url.startswith("/documents/")
        wrong = browser.post("/signin", data={"key": "sk-guess", "next": next_url})
        assert wrong.status_code == 401 and "not valid" in wrong.text
        assert "qa_session" not in browser.cookies
        signed = browser.post("/signin", data={"key": KEYS[0], "next": next_url})
        assert signed.status_code == 303 and signed.headers["location"] == next_url
        cookie = signed.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert KEYS[0] not in signed.headers["set-cookie"]
        assert browser.get(next_url).status_code == 200
        assert browser.post("/api/ask", json=QUESTION).status_code == 200
        assert "Sign out" in browser.get("/").text
        browser.post("/signout")
        assert browser.get("/").status_code == 401


@pytest.mark.parametrize("target", ["https://elsewhere.example/", "//elsewhere.example", "\\\\x"])
def test_signing_in_never_leaves_the_site(keyed_url, target):
    response = httpx.post(f"{keyed_url}/signin", data={"key": KEYS[0], "next": target})
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_keys_are_never_logged(settings, pipeline, caplog):
    caplog.set_level(logging.DEBUG)
    keyed = settings.model_copy(update={"api_keys": ",".join(KEYS), "log_questions": True})
    with served(keyed, pipeline) as url:
        httpx.post(f"{url}/api/ask", json=QUESTION, headers={"Authorization": f"Bearer {KEYS[0]}"})
        httpx.post(f"{url}/signin", data={"key": KEYS[1]})
        httpx.get(f"{url}/v1/models", headers={"Authorization": "Bearer sk-guess"})
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert '"status": 401' in logged  # the requests were logged ...
    assert not any(k in logged for k in [*KEYS, "sk-guess"])  # ... and no key with them


def test_keys_come_from_a_list_or_a_file(tmp_path):
    assert read_keys(" a, b ,,c ") == ["a", "b", "c"]
    assert read_keys("") == []
    keys = tmp_path / "keys"
    keys.write_text("# team keys\nsk-one\n\n  sk-two  \n", encoding="utf-8")
    assert read_keys(str(keys)) == ["sk-one", "sk-two"]


def test_key_ring_matches_whole_keys_only():
    ring = KeyRing(KEYS)
    assert ring.fingerprint(KEYS[0]) and ring.fingerprint(KEYS[0]) != ring.fingerprint(KEYS[1])
    assert ring.fingerprint(KEYS[0][:-1]) is None and ring.fingerprint("") is None
    assert ring.knows(ring.fingerprint(KEYS[1])) and not ring.knows("0" * 16)
    assert not ring.knows(None)
    # Changing the keys changes the secret that signs sessions: every session ends.
    assert KeyRing(KEYS).session_secret != KeyRing(KEYS[:1]).session_secret


def test_serving_beyond_this_machine_without_keys_is_warned_of():
    assert "QA_API_KEYS" in exposure_warning("0.0.0.0", keys=False)
    assert exposure_warning("0.0.0.0", keys=True) is None
    assert exposure_warning("127.0.0.1", keys=False) is None
    assert exposure_warning("localhost", keys=False) is None
    assert exposure_warning("::1", keys=False) is None
    assert exposure_warning("192.168.1.20", keys=False)


def test_cors_is_off_by_default(client):
    preflight = client.options(
        "/api/ask",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    response = client.post("/api/ask", json=QUESTION, headers={"Origin": "https://app.example"})
    assert "access-control-allow-origin" not in response.headers


def test_cors_allows_the_origins_named(settings, pipeline):
    update = {"cors_origins": ["https://app.example"], "api_keys": KEYS[0]}
    with served(settings.model_copy(update=update), pipeline) as url:
        preflight = httpx.options(
            f"{url}/v1/chat/completions",
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://app.example"
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
        answer = httpx.post(
            f"{url}/api/ask",
            json=QUESTION,
            headers={"Origin": "https://app.example", "Authorization": f"Bearer {KEYS[0]}"},
        )
        assert answer.status_code == 200
        assert answer.headers["access-control-allow-origin"] == "https://app.example"
        # A refusal is readable by the page too, so it can ask for a key.
        refused = httpx.post(
            f"{url}/api/ask", json=QUESTION, headers={"Origin": "https://app.example"}
        )
        assert refused.status_code == 401
        assert refused.headers["access-control-allow-origin"] == "https://app.example"
        other = httpx.options(
            f"{url}/api/ask",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in other.headers


def test_rate_limit_per_key_and_per_address(settings, pipeline):
    update = {"api_keys": ",".join(KEYS), "rate_limit": "3/minute"}
    with served(settings.model_copy(update=update), pipeline) as url:
        first = {"Authorization": f"Bearer {KEYS[0]}"}
        for _ in range(3):
            assert httpx.get(f"{url}/v1/models", headers=first).status_code == 200
        refused = httpx.get(f"{url}/api/search?q=housing", headers=first)
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        chat = openai.OpenAI(base_url=f"{url}/v1", api_key=KEYS[0], max_retries=0)
        with pytest.raises(openai.RateLimitError) as caught:
            chat.models.list()
        assert caught.value.body["code"] == "rate_limit_exceeded"
        # Another key has its own allowance; the health check is never limited.
        second = {"Authorization": f"Bearer {KEYS[1]}"}
        assert httpx.get(f"{url}/v1/models", headers=second).status_code == 200
        assert all(httpx.get(f"{url}/api/health").status_code == 200 for _ in range(5))
        # Made-up keys share their address's allowance, so a guesser is slowed too.
        statuses = [
            httpx.get(
                f"{url}/v1/models", headers={"Authorization": f"Bearer guess-{i}"}
            ).status_code
            for i in range(4)
        ]
        assert statuses == [401, 401, 401, 429]


def test_a_bad_rate_limit_is_refused_plainly():
    from pydantic import ValidationError

    from qa.config import Settings

    with pytest.raises(ValidationError, match="N/second, N/minute or N/hour"):
        Settings(rate_limit="lots")
