"""Compiled simulation models, cached by a hash of the Verilog and the build options.

A Verilator build takes 20-45 s (Icarus: about a second, so Icarus is not cached); the same
design is never compiled twice, across runs and pytest workers alike. An entry is the folder
``<cache>/<simulator>-<sha256>`` holding the model's executable and its build log; it is built
in a temporary folder next to it and renamed into place only when the build succeeded, so a
failed or interrupted build leaves nothing a rerun would trip over. A lock file per entry
makes a second process wait for the first one's build instead of compiling it again.

The cache is ``$SPINAPS_SIM_CACHE``, else ``build/sim_cache`` under the working directory;
the least recently used entries beyond ``$SPINAPS_SIM_CACHE_KEEP`` (default 48) are removed.
A failed build raises :class:`~spinaps.toolchain.ToolError` naming its log, kept as
``<cache>/<key>.failed.log``.
"""

import fcntl
import hashlib
import os
import shutil
import time
from pathlib import Path

from spinaps.toolchain import ToolError

__all__ = ["CACHE_ENV", "cache_dir", "model_key", "cached_build"]

CACHE_ENV = "SPINAPS_SIM_CACHE"
KEEP_ENV = "SPINAPS_SIM_CACHE_KEEP"


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.cwd() / "build" / "sim_cache").resolve()


def model_key(simulator, verilog_text: str, top: str, waves: str | None) -> str:
    """Hash of everything the compiled model depends on: the simulator's version and options
    (:meth:`spinaps.toolchain.Simulator.fingerprint`), the top module, the wave format."""
    h = hashlib.sha256()
    for part in (simulator.fingerprint(), top, waves or "", verilog_text):
        h.update(part.encode())
        h.update(b"\0")
    return f"{simulator.name}-{h.hexdigest()[:24]}"


def cached_build(simulator, vfile, top, *, waves=None, build_kwargs=None):
    """The folder of the compiled model of ``vfile`` (top module ``top``): the cached one, or
    built now with ``simulator.build`` and kept. Returns ``(folder, was_cached)``.

    ``waves``: None, ``"vcd"`` or ``"fst"`` (a model that can dump waves is a different build).
    A failed build raises :class:`~spinaps.toolchain.ToolError` and leaves no entry.
    """
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    key = model_key(simulator, Path(vfile).read_text(), top, waves)
    final = root / key
    with open(root / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)      # a concurrent build of the same key finishes first
        if (final / top).exists():
            os.utime(final)                   # recently used: kept by the pruning below
            return final, True
        tmp = root / f".{key}.tmp{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            tmp.mkdir()
            shutil.copy2(vfile, tmp / Path(vfile).name)
            simulator.build(sources=[tmp / Path(vfile).name], hdl_toplevel=top, build_dir=tmp,
                            log_file=tmp / "build.log", **(build_kwargs or {}))
            if not (tmp / top).exists():
                raise RuntimeError(f"{simulator.title} built no {top}; see {tmp / 'build.log'}")
            _keep_only(tmp, {top, "build.log", Path(vfile).name, "public.vlt"})
            shutil.rmtree(final, ignore_errors=True)    # a half entry of an older version
            os.replace(tmp, final)
            (root / f"{key}.failed.log").unlink(missing_ok=True)
        except Exception as exc:
            # The failed build's log is kept (beside the cache entries), nothing else.
            log, kept = tmp / "build.log", root / f"{key}.failed.log"
            if log.exists():
                shutil.copy2(log, kept)
            shutil.rmtree(tmp, ignore_errors=True)
            raise ToolError(f"{simulator.title} could not compile {Path(vfile).name} ({exc}); "
                            f"its log: {kept}") from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    _prune(root)
    return final, False


def _keep_only(folder, names):
    """Drop the object files and generated C++ (tens of MB): the executable runs alone."""
    for entry in folder.iterdir():
        if entry.name not in names:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


def _prune(root):
    """Remove the least recently used entries beyond the limit (and stale lock files)."""
    keep = int(os.environ.get(KEEP_ENV) or 48)
    entries = sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
                     key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[keep:]:
        shutil.rmtree(old, ignore_errors=True)    # its lock file stays: a waiter may hold it
    # Temporary folders of builds killed hard (no except clause ran) an hour ago or more.
    for tmp in root.glob(".*.tmp*"):
        if time.time() - tmp.stat().st_mtime > 3600:
            shutil.rmtree(tmp, ignore_errors=True)
