"""Where the search's evaluations run: a Dask ``distributed`` client on a local cluster of
worker processes (the default) or on a running scheduler (``--scheduler tcp://HOST:PORT``).

The scheduler address is checked before anything else runs (form, then a TCP connection with
a short timeout), so a typo or a stopped scheduler is one clear error, not a hang. Workers of a
remote cluster need spinaps installed with the same version (docs/search.md).
"""

from __future__ import annotations

import contextlib
import logging
import socket
from urllib.parse import urlparse

__all__ = ["check_scheduler", "dask_client", "SchedulerError"]


class SchedulerError(ValueError):
    """The scheduler address is malformed or nothing answers there."""


def check_scheduler(address, timeout=5.0):
    """``(host, port)`` of ``tcp://HOST:PORT`` once a TCP connection to it succeeded."""
    parsed = urlparse(address or "")
    try:
        port = parsed.port
    except ValueError:
        port = None
    if parsed.scheme != "tcp" or not parsed.hostname or port is None:
        raise SchedulerError(f"--scheduler {address!r}: give the Dask scheduler's address as tcp://HOST:PORT "
                             "(what `dask scheduler` prints, e.g. tcp://10.0.0.5:8786)")
    try:
        with socket.create_connection((parsed.hostname, port), timeout=timeout):
            pass
    except OSError as e:
        raise SchedulerError(f"--scheduler {address}: no Dask scheduler answers there ({e.strerror or e}); start one "
                             "with `dask scheduler --port PORT` (docs/search.md) or leave --scheduler out to run "
                             "on a local cluster") from None
    return parsed.hostname, port


@contextlib.contextmanager
def dask_client(scheduler=None, workers=2):
    """A ``distributed.Client``: connected to ``scheduler`` (checked first), or to a
    ``LocalCluster`` of ``workers`` single-threaded worker processes that is closed on exit."""
    from distributed import Client, LocalCluster

    if scheduler:
        check_scheduler(scheduler)
        client = Client(scheduler, timeout="30s")
        try:
            yield client
        finally:
            client.close()
        return
    # Processes, one thread each: training and the golden model hold the GIL, and one torch
    # thread per worker keeps results independent of the worker (spinaps.search_eval).
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                      host="127.0.0.1", silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client
