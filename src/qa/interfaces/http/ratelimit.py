"""Rate limiting (`QA_RATE_LIMIT`, e.g. "120/minute"): per API key when the request carries
a valid one (as a bearer key or a signed-in session), else per client address. The `limits`
library keeps a moving window in this process's memory; several server processes each keep
their own."""

import json
import math
import time

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from qa.interfaces.http.auth import SESSION_KEY, KeyRing, bearer_token

# Never limited: the health check (load balancers poll it) and static files.
EXEMPT_PATHS = frozenset({"/api/health"})
EXEMPT_PREFIXES = ("/static/", "/docs/assets/")


class RateLimit:
    """A plain ASGI middleware: over the limit, 429 with `Retry-After`, in OpenAI's error
    shape on /v1 (its client waits and retries) and as `{"detail"}` elsewhere."""

    def __init__(self, app: ASGIApp, limit: str, ring: KeyRing | None = None) -> None:
        self.app = app
        self.item = parse(limit)  # checked by Settings
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.ring = ring

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in EXEMPT_PATHS or path.startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        who = self._who(scope)
        if self.limiter.hit(self.item, who):
            await self.app(scope, receive, send)
            return
        reset = self.limiter.get_window_stats(self.item, who).reset_time
        await self._refuse(path, max(1, math.ceil(reset - time.time())))(scope, receive, send)

    def _who(self, scope: Scope) -> str:
        """The key's fingerprint for a valid key, else the client's address (so that
        made-up keys cannot each get a fresh allowance)."""
        if self.ring is not None:
            token = bearer_token(scope)
            if token is not None and (found := self.ring.fingerprint(token)):
                return f"key:{found}"
            session = scope.get("session") or {}
            if self.ring.knows(session.get(SESSION_KEY)):
                return f"key:{session[SESSION_KEY]}"
        client = scope.get("client")
        return f"address:{client[0] if client else 'unknown'}"

    def _refuse(self, path: str, retry_after: int) -> Response:
        message = f"Too many requests: the limit is {self.item}. Retry in {retry_after} s."
        if path.startswith("/v1/"):
            body = {
                "error": {
                    "message": message,
                    "type": "rate_limit_error",
                    "param": None,
                    "code": "rate_limit_exceeded",
                }
            }
        else:
            body = {"detail": message}
        headers = {"Retry-After": str(retry_after)}
        return Response(json.dumps(body), 429, headers, "application/json")
