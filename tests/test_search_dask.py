"""The search on a real Dask cluster: a `dask scheduler` and two `dask worker` processes on
127.0.0.1 (started here, always stopped), against the default local cluster.

* the same tiny search (digits, real training, golden model, cost model) gives the same
  points through the remote scheduler as on the local cluster;
* a worker killed while it evaluates a trial costs a retry, not the study (slow: a second
  cluster and search, about 40 s of CPU).
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")
pytest.importorskip("optuna")

DASK = Path(sys.executable).parent / "dask"
TINY = dict(fit="none", confirm=0, seed=5, progress=False)     # seed 5: three different trials
COMPARED = ("trial", "params", "artifact", "memory", "encoder_lanes", "lanes", "accuracy_golden", "cycles_estimate",
            "energy_j", "edp", "mean_step", "sops", "pareto")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A scheduler and named single-threaded workers (no nanny: killing one kills the worker)."""

    def __init__(self, tmp, n_workers=2):
        self.port = _free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        log = open(tmp / "dask.log", "w")
        self._log = log
        self.procs = [subprocess.Popen([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                                        "--no-dashboard"], stdout=log, stderr=subprocess.STDOUT, env=env,
                                       start_new_session=True)]
        self.workers = {}
        for i in range(n_workers):
            name = f"w{i}"
            self.workers[name] = subprocess.Popen(
                [str(DASK), "worker", self.address, "--name", name, "--nthreads", "1", "--no-nanny",
                 "--no-dashboard", "--host", "127.0.0.1", "--local-directory", str(tmp / name)],
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
            self.procs.append(self.workers[name])
        from distributed import Client
        deadline = time.monotonic() + 120
        while True:
            try:
                self.client = Client(self.address, timeout="5s")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        self.client.wait_for_workers(n_workers, timeout=120)

    def name_of(self, address):
        return self.client.scheduler_info()["workers"][address]["name"]

    def stop(self):
        self.client.close()
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self._log.close()


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(tmp_path)
    try:
        yield c
    finally:
        c.stop()


def _points(path):
    return [{k: p[k] for k in COMPARED} for p in json.loads(Path(path).read_text())["points"]]


def _run(out, **kw):
    from spinaps.search import search
    return search("tiny", out=out, trials=3, batch=3, **TINY, **kw)


def test_remote_cluster_gives_the_local_results(tmp_path, cluster):
    local = _run(tmp_path / "local", workers=2)
    remote = _run(tmp_path / "remote", scheduler=cluster.address)
    assert len({p["trial"] for p in local.points}) == 3
    assert _points(remote.json) == _points(local.json)
    # Both searches really ran: each trained and evaluated through its own cache.
    assert len(list((tmp_path / "remote" / "cache").glob("*.json"))) >= 1


@pytest.mark.slow
def test_worker_killed_mid_evaluation_costs_a_retry(tmp_path, cluster):
    result, error = {}, []

    def run():
        try:
            result["r"] = _run(tmp_path / "killed", scheduler=cluster.address, retries=2)
        except BaseException as e:  # noqa: BLE001 - reported by the assertion below
            error.append(e)

    thread = threading.Thread(target=run)
    thread.start()
    victim, deadline = None, time.monotonic() + 300
    while victim is None and time.monotonic() < deadline and thread.is_alive():
        busy = [a for a, keys in cluster.client.processing().items() if any("evaluate_trial" in k for k in keys)]
        if busy:
            victim = cluster.name_of(busy[0])
            time.sleep(1.0)             # mid-evaluation: the trial has started training
            os.killpg(cluster.workers[victim].pid, signal.SIGKILL)
        else:
            time.sleep(0.2)
    thread.join(timeout=600)
    assert victim is not None, "no evaluation was seen running on a worker"
    assert cluster.workers[victim].wait(timeout=10) == -signal.SIGKILL
    assert not error, error
    assert result["r"].trials == 3
    assert {p["trial"] for p in result["r"].points} <= {0, 1, 2} and result["r"].points
