"""Dashboard settings and the access token (kept only as its SHA-256)."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from soc2kit.errors import Location, UsageError, UserError

TOKEN_ENV = "SOC2KIT_TOKEN"
MIN_TOKEN_LENGTH = 16
LOOPBACK_NAMES = ("localhost",)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_token(token: str, where: str) -> str:
    token = token.strip()
    if len(token) < MIN_TOKEN_LENGTH:
        raise UsageError(f"the access token from {where} is {len(token)} characters long; at least {MIN_TOKEN_LENGTH} are needed",
                         hint="generate one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'")
    if any(ch.isspace() for ch in token) or not token.isprintable():
        raise UsageError(f"the access token from {where} contains spaces or control characters", hint="use a token of letters, digits and punctuation")
    return token


def load_token_hash(token_file: Path | None, env: dict[str, str] | None = None) -> str | None:
    """The SHA-256 of the access token from ``--token-file`` (first) or ``SOC2KIT_TOKEN``; None when neither is set.
    The token itself is not kept."""
    env = os.environ if env is None else env
    if token_file is not None:
        try:
            text = token_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UserError("token file not found", location=Location(token_file), hint="write a random token into it, one line") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"cannot read the token file: {exc}", location=Location(token_file)) from None
        return hash_token(_check_token(text, "--token-file"))
    value = env.get(TOKEN_ENV)
    if value:
        return hash_token(_check_token(value, TOKEN_ENV))
    return None


@dataclass
class Settings:
    """Everything ``create_app`` needs.

    ``token_hash``: hex SHA-256 of the access token, or None for no login (loopback only).
    ``max_upload_bytes``: None means the profile's ``evidence.max_file_mb``.
    ``secure_cookies``: mark cookies Secure (set when serving beyond loopback).
    ``allowed_hosts``: Host headers accepted without a token (DNS-rebinding guard); None accepts any.
    """

    workspace: Path
    read_only: bool = False
    token_hash: str | None = None
    max_upload_bytes: int | None = None
    secure_cookies: bool = False
    allowed_hosts: tuple[str, ...] | None = None
    session_hours: float = 12.0
    today: Callable[[], dt.date] | None = None

    @classmethod
    def for_serving(cls, workspace: Path, *, host: str, port: int, token_hash: str | None, read_only: bool = False) -> Settings:
        loopback = is_loopback(host)
        if not loopback and token_hash is None:
            raise UsageError(f"refusing to serve on {host} without an access token: anyone who can reach it could read and change the workspace",
                             hint=f"set {TOKEN_ENV} or pass --token-file FILE (or bind to 127.0.0.1)")
        allowed = None
        if loopback and token_hash is None:
            names = {"127.0.0.1", "localhost", "[::1]", host if ":" not in host else f"[{host.strip('[]')}]"}
            allowed = tuple(sorted({n for n in names} | {f"{n}:{port}" for n in names}))
        return cls(workspace=workspace, read_only=read_only, token_hash=token_hash, secure_cookies=not loopback, allowed_hosts=allowed)
