"""The dashboard's guard: one ASGI middleware in front of every route.

In order, for each HTTP request:

* security headers on every response (CSP ``default-src 'self'``, ``frame-ancestors 'none'``,
  ``X-Content-Type-Options: nosniff``, referrer only to itself, no caching of pages);
* without an access token the server listens on loopback only, and then only ``Host`` headers
  naming loopback are accepted (a DNS-rebinding page cannot talk to it);
* with a token, every page except the login form and the stylesheet needs either
  ``Authorization: Bearer TOKEN`` or the session cookie the login form sets (HttpOnly,
  SameSite=Strict, Secure beyond loopback); the token is compared as SHA-256 digests with
  ``hmac.compare_digest``;
* CSRF: a random token in an HttpOnly, SameSite=Strict cookie, repeated in a hidden field of every
  form (double submit, checked by the routes with :func:`check_csrf`); a request whose ``Origin``
  names another site is refused outright;
* read-only mode refuses every write with 403;
* upload bodies are counted as they stream in and cut off past the limit (413);
* any exception a route lets escape becomes the one error page / JSON shape (500), logged on the
  server, never sent to the client.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from soc2kit.web.errors import WebError
from soc2kit.web.settings import Settings

log = logging.getLogger("soc2kit.web")

CSRF_COOKIE = "soc2kit_csrf"
SESSION_COOKIE = "soc2kit_session"
CSRF_FIELD = "csrf_token"
PUBLIC_PATHS = ("/login", "/static/", "/healthz")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
UPLOAD_PATH = re.compile(r"^/controls/[^/]+/evidence$")
MULTIPART_SLACK = 64 * 1024  # form fields and multipart boundaries around the file itself

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class BodyTooLarge(WebError):
    def __init__(self, limit: int):
        super().__init__(413, f"the upload is larger than the limit of {limit // (1024 * 1024)} MiB (evidence.max_file_mb in soc2kit.yaml)")


class Sessions:
    """Login sessions held in memory (a restart logs everyone out); only the SHA-256 of each id is kept."""

    def __init__(self, hours: float):
        self.lifetime = hours * 3600
        self._items: dict[str, float] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _digest(sid: str) -> str:
        return hashlib.sha256(sid.encode()).hexdigest()

    def create(self) -> str:
        sid = secrets.token_urlsafe(32)
        with self._lock:
            now = time.time()
            self._items = {k: v for k, v in self._items.items() if v > now}
            self._items[self._digest(sid)] = now + self.lifetime
        return sid

    def valid(self, sid: str | None) -> bool:
        if not sid or len(sid) > 100:
            return False
        with self._lock:
            expiry = self._items.get(self._digest(sid))
        return expiry is not None and expiry > time.time()

    def drop(self, sid: str | None) -> None:
        if sid:
            with self._lock:
                self._items.pop(self._digest(sid), None)


def token_matches(candidate: str, token_hash: str) -> bool:
    digest = hashlib.sha256(candidate.encode("utf-8", "surrogateescape")).hexdigest()
    return hmac.compare_digest(digest, token_hash)


def cookie_header(name: str, value: str, *, secure: bool, max_age: int | None = None) -> bytes:
    parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Strict"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if secure:
        parts.append("Secure")
    return "; ".join(parts).encode()


def check_csrf(request: Request, submitted: object) -> None:
    """Raise 403 unless the form's CSRF field equals the CSRF cookie (requests authenticated with a
    Bearer header need none: a browser never adds that header on its own)."""
    if request.scope.get("state", {}).get("auth") == "bearer":
        return
    # the token the guard accepted for this request (a malformed cookie was replaced, not trusted)
    cookie = request.scope.get("state", {}).get("csrf") or ""
    if not cookie or not isinstance(submitted, str) or not hmac.compare_digest(cookie.encode(), submitted.encode("utf-8", "surrogateescape")):
        raise WebError(403, "the form's security token is missing or out of date; reload the page and submit it again")


class Guard:
    def __init__(self, app: ASGIApp, settings: Settings, sessions: Sessions, on_error: Callable[[Scope, int, str, dict[str, str]], Message | tuple]):
        self.app = app
        self.settings = settings
        self.sessions = sessions
        self.on_error = on_error  # (scope, status, message, headers) -> (status, headers list, body bytes)

    def _host_ok(self, request: Request) -> bool:
        allowed = self.settings.allowed_hosts
        if allowed is None:
            return True
        return request.headers.get("host", "").lower() in allowed

    def _origin_ok(self, request: Request) -> bool:
        origin = request.headers.get("origin")
        if not origin or origin == "null":  # absent or opaque: the CSRF token decides
            return True
        return urlsplit(origin).netloc.lower() == request.headers.get("host", "").lower()

    def _authenticate(self, request: Request) -> str | None:
        if self.settings.token_hash is None:
            return "none"
        header = request.headers.get("authorization", "")
        if header[:7].lower() == "bearer ":
            return "bearer" if token_matches(header[7:].strip(), self.settings.token_hash) else None
        if self.sessions.valid(request.cookies.get(SESSION_COOKIE)):
            return "session"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        path = scope["path"]
        state = scope.setdefault("state", {})
        csrf = request.cookies.get(CSRF_COOKIE)
        new_csrf = None
        if not csrf or not re.fullmatch(r"[A-Za-z0-9_-]{20,100}", csrf):
            new_csrf = csrf = secrets.token_urlsafe(32)
        state["csrf"] = csrf
        started = False
        extra: list[tuple[bytes, bytes]] = list(HEADERS)
        if not path.startswith("/static/"):
            extra.append((b"cache-control", b"no-store"))
        if new_csrf is not None:
            extra.append((b"set-cookie", cookie_header(CSRF_COOKIE, new_csrf, secure=self.settings.secure_cookies)))

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                names = {k.lower() for k, _ in message.get("headers", [])}
                message = dict(message)
                message["headers"] = list(message.get("headers", [])) + [(k, v) for k, v in extra if k not in names or k == b"set-cookie"]
            await send(message)

        try:
            if not self._host_ok(request):
                raise WebError(400, "this dashboard only answers requests addressed to localhost")
            public = path == "/login" or path.startswith(PUBLIC_PATHS[1:])
            auth = self._authenticate(request)
            state["auth"] = auth
            if auth is None and not public:
                if request.method == "GET" and "text/html" in request.headers.get("accept", "") and not path.startswith("/api/"):
                    await guarded_send({"type": "http.response.start", "status": 303, "headers": [(b"location", b"/login")]})
                    await send({"type": "http.response.body", "body": b""})
                    return
                raise WebError(401, "an access token is needed: log in, or send Authorization: Bearer TOKEN", headers={"WWW-Authenticate": "Bearer"})
            if request.method in WRITE_METHODS:
                if not self._origin_ok(request):
                    raise WebError(403, "the request comes from another site")
                if self.settings.read_only and path not in ("/login", "/logout"):
                    raise WebError(403, "the dashboard runs in read-only mode; changes are refused")
            if request.method == "POST" and UPLOAD_PATH.match(path):
                receive = self._limited(request, receive)
            await self.app(scope, receive, guarded_send)
        except WebError as exc:
            if started:
                raise
            await self._send_error_guarded(scope, guarded_send, exc.status, exc.message, exc.headers)
        except Exception:
            if started:
                raise
            log.exception("internal error on %s %s", request.method, path)
            await self._send_error_guarded(scope, guarded_send, 500, "the dashboard hit an internal error; the details are in the server's log")

    async def _send_error_guarded(self, scope: Scope, send: Send, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        code, hdrs, body = self.on_error(scope, status, message, headers or {})
        await send({"type": "http.response.start", "status": code, "headers": hdrs})
        await send({"type": "http.response.body", "body": body})

    def _limited(self, request: Request, receive: Receive) -> Receive:
        limit = self.settings.max_upload_bytes or 0
        cap = limit + MULTIPART_SLACK
        length = request.headers.get("content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                raise WebError(400, "the Content-Length header is not a number") from None
            if declared > cap:
                raise BodyTooLarge(limit)
        seen = 0

        async def counting() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    raise BodyTooLarge(limit)
            return message

        return counting
