"""Running the app under uvicorn: refuse a public address without keys, log as configured."""

from __future__ import annotations

import ipaddress
import logging

from rag import InvalidInputError, RagEngine, Settings
from service.app import create_app
from service.observability import configure_logging

logger = logging.getLogger("rag.service")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings, host: str, *, insecure: bool) -> None:
    """Refuse to listen beyond this machine without keys, unless told `--insecure`."""
    if is_loopback(host) or settings.api_keys:
        return
    if not insecure:
        raise InvalidInputError(
            f"refusing to serve on {host} without keys: anyone who reaches the port could read and delete every "
            "document. Set RAG_API_KEYS (and RAG_ADMIN_KEYS), or pass --insecure"
        )
    logger.warning("serving on %s WITHOUT keys (--insecure): anyone who reaches the port can read and delete", host)


def serve(settings: Settings, engine: RagEngine, *, host: str, port: int) -> None:
    """Serve until interrupted; uvicorn's own logs go through the same handler (text or JSON)."""
    import uvicorn

    app = create_app(settings, engine=engine)
    # Observed logs one line per request with its id; uvicorn's access log would repeat it without.
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


__all__ = ["check_exposure", "configure_logging", "is_loopback", "serve"]
