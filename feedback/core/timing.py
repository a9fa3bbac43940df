"""``Server-Timing`` for the benchmarks (``FEEDBACK_SERVER_TIMING``): each response says
how long the app took, the CPU it used and how many SQL statements it ran, so the server's
own time can be told apart from queueing and the client. Off by default: it tells
visitors how the site is built."""

from __future__ import annotations

import time

from flask import Flask, Response, g, has_request_context
from sqlalchemy import Engine, event


def _count_statement(*_args) -> None:
    if has_request_context() and "timing_started" in g:
        g.timing_queries = g.get("timing_queries", 0) + 1


def init_timing(app: Flask) -> None:
    if not app.config.get("SERVER_TIMING"):
        return
    if not event.contains(Engine, "before_cursor_execute", _count_statement):
        event.listen(Engine, "before_cursor_execute", _count_statement)

    def start_timing() -> None:
        g.timing_started = timing_start()

    app.before_request_funcs.setdefault(None, []).insert(0, start_timing)  # first of all

    @app.after_request
    def add_server_timing(response: Response) -> Response:
        started = g.get("timing_started")
        if started is not None:
            response.headers["Server-Timing"] = server_timing(started,
                                                              g.get("timing_queries", 0))
        return response


def timing_start() -> tuple[float, float]:
    """Wall and CPU clocks now, for ``server_timing``."""
    return time.perf_counter(), time.process_time()


def server_timing(started: tuple[float, float], queries: int) -> str:
    """The ``Server-Timing`` value for a response begun at ``started``."""
    wall = (time.perf_counter() - started[0]) * 1000
    cpu = (time.process_time() - started[1]) * 1000
    return f'app;dur={wall:.2f}, cpu;dur={cpu:.2f}, db;desc="{queries} queries"'
