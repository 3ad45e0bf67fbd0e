"""`soc2kit serve`: the web dashboard over the workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from soc2kit.cli.app import _workspace_path, app, err


def _check_port_free(host: str, port: int) -> None:
    """Bad input, not a server crash: the address is taken or cannot be bound here."""
    import socket

    from soc2kit.errors import UsageError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UsageError(f"cannot listen on {host!r}: {exc.strerror}", hint="give an IP address or a host name of this machine") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}", hint="choose another --port, or stop the program using it") from None


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on. Anything but loopback needs an access token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", min=1, max=65535, help="Port to listen on.")] = 8000,
    token_file: Annotated[Path | None, typer.Option("--token-file", help="File holding the access token (else $SOC2KIT_TOKEN); enables login.", show_default=False)] = None,
    read_only: Annotated[bool, typer.Option("--read-only", help="Refuse every change (uploads, acknowledgements).")] = False,
) -> None:
    """Start the web dashboard: readiness, criteria → controls → evidence, policies, uploads, gap and plan.

    Listens on 127.0.0.1 by default. Binding to another address needs an access token
    (SOC2KIT_TOKEN or --token-file); without one the command refuses to start (exit 2).
    """
    import uvicorn

    from soc2kit.web import create_app
    from soc2kit.web.settings import Settings, load_token_hash

    settings = Settings.for_serving(_workspace_path(), host=host, port=port, token_hash=load_token_hash(token_file), read_only=read_only)
    _check_port_free(host, port)
    web_app = create_app(settings)
    shown = f"[{host}]" if ":" in host else host
    err.print(f"soc2kit dashboard for {settings.workspace} on http://{shown}:{port}/"
              + (" (read-only)" if read_only else "") + (" (login with the access token)" if settings.token_hash else ""))
    uvicorn.run(web_app, host=host, port=port, log_level="warning", server_header=False, proxy_headers=False)
