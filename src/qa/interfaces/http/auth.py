"""API keys: with `QA_API_KEYS` set, every route but the health check needs a key.

A client sends `Authorization: Bearer KEY` (as the OpenAI client does); a browser signs in
once on `/signin` and carries a signed session cookie (Starlette's `SessionMiddleware`).
Keys are compared as SHA-256 digests with `hmac.compare_digest`, against every key, so the
time taken says nothing about how close a guess was; they are never logged or echoed.
"""

import hashlib
import hmac
import json
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

# Routes anyone may reach: the health check (for load balancers), the sign-in page, and the
# page's own stylesheet and script (they hold no corpus data).
OPEN_PATHS = frozenset({"/api/health", "/signin"})
OPEN_PREFIXES = ("/static/",)
SESSION_KEY = "key"  # the session holds the signed-in key's fingerprint, never the key
SESSION_DAYS = 14

router = APIRouter(include_in_schema=False)


def read_keys(value: str) -> list[str]:
    """The keys of a `QA_API_KEYS` value: comma-separated keys, or the path of a file with
    one key a line (blank lines and lines starting with # skipped)."""
    value = value.strip()
    if not value:
        return []
    path = Path(value).expanduser()
    if path.is_file():
        lines = path.read_text(encoding="utf-8").splitlines()
        return [k.strip() for k in lines if k.strip() and not k.lstrip().startswith("#")]
    return [k.strip() for k in value.split(",") if k.strip()]


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


class KeyRing:
    """The accepted keys, kept as digests."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("a key ring needs at least one key")
        self._digests = [_digest(k) for k in keys]
        # Signs session cookies: known only to whoever knows every key, and changed (so every
        # session ends) when the keys change.
        self.session_secret = hmac.new(
            b"qa-session", b"".join(sorted(self._digests)), hashlib.sha256
        ).hexdigest()

    def fingerprint(self, key: str) -> str | None:
        """A short id of `key` if it is one of the ring's, else None; constant time."""
        digest = _digest(key)
        match = None
        for known in self._digests:
            if hmac.compare_digest(digest, known):
                match = known
        return match.hex()[:16] if match is not None else None

    def knows(self, fingerprint: object) -> bool:
        """Whether a session's fingerprint is still one of the ring's keys."""
        if not isinstance(fingerprint, str):
            return False
        found = False
        for known in self._digests:
            found |= hmac.compare_digest(fingerprint.encode(), known.hex()[:16].encode())
        return found


def bearer_token(scope: Scope) -> str | None:
    """The key of an `Authorization: Bearer KEY` header, or None."""
    header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
    scheme, _, token = header.partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


class RequireKey:
    """A plain ASGI middleware: requests without a valid key or session get 401, in the
    form the caller reads (OpenAI's error object, the API's JSON, or the sign-in page)."""

    def __init__(self, app: ASGIApp, ring: KeyRing) -> None:
        self.app = app
        self.ring = ring

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        response = unauthorized(scope)
        await response(scope, receive, send)

    def _allowed(self, scope: Scope) -> bool:
        path = scope["path"]
        if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            return True
        if scope["method"] == "OPTIONS":
            return True  # a CORS preflight carries no credentials; CORS answers it
        token = bearer_token(scope)
        if token is not None:
            return self.ring.fingerprint(token) is not None
        session = scope.get("session") or {}
        return self.ring.knows(session.get(SESSION_KEY))


def unauthorized(scope: Scope) -> Response:
    """401, saying nothing of why: JSON for APIs, the sign-in page for people (it returns
    to the page asked for once signed in)."""
    path: str = scope["path"]
    headers = {"WWW-Authenticate": "Bearer"}
    if path.startswith("/v1/"):
        error = {
            "message": "A valid API key is required: Authorization: Bearer <key>.",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
        return Response(json.dumps({"error": error}), 401, headers, "application/json")
    if path.startswith("/api/") or path == "/openapi.json" or scope["method"] != "GET":
        return Response(
            json.dumps({"detail": "Not authenticated"}), 401, headers, "application/json"
        )
    query = scope.get("query_string", b"").decode("latin-1")
    target = path + (f"?{query}" if query else "")
    request = Request(scope)
    return _signin(request, target, failed=False, status=401)


def _safe_next(target: str) -> str:
    """Only a path of this site: never another origin (`//host`, `https://...`)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/signin")
async def signin_page(request: Request, next: str = "/") -> Response:
    """The sign-in page: one field, the key."""
    return _signin(request, _safe_next(next), failed=False, status=200)


@router.post("/signin")
async def signin(
    request: Request, key: Annotated[str, Form(max_length=4096)], next: Annotated[str, Form()] = "/"
) -> Response:
    """A right key starts a session and goes on to `next`; a wrong one gets the page again,
    with 401."""
    ring: KeyRing = request.app.state.key_ring
    fingerprint = ring.fingerprint(key.strip())
    if fingerprint is None:
        return _signin(request, _safe_next(next), failed=True, status=401)
    request.session.clear()
    request.session[SESSION_KEY] = fingerprint
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/signout")
async def signout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/signin", status_code=303)


def _signin(request: Request, target: str, *, failed: bool, status: int) -> Response:
    """The sign-in page, which returns to `target` once signed in."""
    return request.app.state.templates.TemplateResponse(
        request,
        "signin.html",
        {"next": _safe_next(target), "failed": failed},
        status_code=status,
        headers={"Cache-Control": "no-store", "WWW-Authenticate": "Bearer"},
    )
