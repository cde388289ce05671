"""Serving on a Ray cluster: the same app behind Ray Serve's HTTP proxy, N replicas each holding an engine of its own.

Each replica loads the index and the model itself and adopts new generations on its own, as a single server does;
writes still take the index's one writer lock (every node must see the same index directory). Ray is imported
inside functions only.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI

from rag import RagEngine, Settings
from service.app import create_app

APP_NAME = "rag"


def application(settings: Settings, *, replicas: int) -> Any:
    """The Serve application: `replicas` copies of the app, one CPU each, spread by Ray over the nodes."""
    from ray import serve

    class Replica:
        """One copy of the app; Serve calls __serve_build_asgi_app__ on the replica once it is constructed."""

        def __init__(self, settings: Settings) -> None:
            self.settings = settings

        def __serve_build_asgi_app__(self) -> FastAPI:
            engine = RagEngine.from_settings(self.settings)
            # Loaded before the replica counts as started, so that the first question does not pay for it.
            engine.warm_up()
            return create_app(self.settings, engine=engine)

    deployment = serve.deployment(num_replicas=replicas, ray_actor_options={"num_cpus": 1})
    return deployment(serve.ingress()(Replica)).bind(settings)


def serve_replicas(settings: Settings, *, replicas: int, host: str, port: int, blocking: bool = True) -> None:
    """Deploy the app on the cluster this process joined, its HTTP proxy on the head node at host:port.

    Blocking, it serves until interrupted and then removes the deployment; otherwise the deployment outlives this
    call, until `ray.serve.shutdown()`.
    """
    from ray import serve

    # One proxy, on the head: every node running one on the same port would need a load balancer in front.
    serve.start(proxy_location="HeadOnly", http_options={"host": host, "port": port})
    serve.run(application(settings, replicas=replicas), name=APP_NAME, route_prefix="/")
    if not blocking:
        return
    try:
        while True:
            time.sleep(1)
    finally:
        serve.shutdown()  # type: ignore[no-untyped-call]
