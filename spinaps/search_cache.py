"""The search's content-hashed result cache: one entry per evaluation, keyed by the hash of
the function's name, its version (:data:`spinaps.search_eval.EVAL_VERSIONS`) and its arguments.

Every evaluation of the search is a pure function of its arguments (spinaps.search_eval), so
an entry is valid for as long as the arguments hash the same: a resumed or repeated search
skips every evaluation it already made, and two searches sharing a cache folder share work.
The client reads and writes the cache (workers need no shared file system). An entry is a JSON
file ``<key>.json``; bytes values (artifacts) go to ``<key>/<name>.npz`` beside it. Both are
written atomically (spinaps.toolchain.atomic_write_text), the JSON last, so an interrupted
write leaves no entry.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

__all__ = ["ResultCache", "cache_key"]


def cache_key(function, *args):
    """sha256 of ``[function name, its version, args]`` as canonical JSON (first 24 hex digits);
    the version is the function's in :data:`spinaps.search_eval.EVAL_VERSIONS` (else EVAL_VERSION)."""
    from spinaps.search_eval import EVAL_VERSION, EVAL_VERSIONS

    def digest(value):          # artifacts (bytes) enter the key by their own hash
        if isinstance(value, bytes):
            return {"sha256": hashlib.sha256(value).hexdigest()}
        raise TypeError(f"cache_key: cannot hash a {type(value).__name__}")

    text = json.dumps([function, EVAL_VERSIONS.get(function, EVAL_VERSION), list(args)], sort_keys=True, separators=(",", ":"), default=digest)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class ResultCache:
    """Results on disk under ``folder``: :meth:`get` returns None when absent."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def _json(self, key):
        return self.folder / f"{key}.json"

    def get(self, key):
        path = self._json(key)
        if not path.exists():
            return None
        value = json.loads(path.read_text())
        files = value.pop("_files", {})
        for field, names in files.items():
            value[field] = {name: (self.folder / key / f"{name}.npz").read_bytes() for name in names}
        return value

    def artifact_path(self, key, name):
        """Where artifact ``name`` of entry ``key`` is stored."""
        return self.folder / key / f"{name}.npz"

    def put(self, key, value):
        from spinaps.toolchain import atomic_write_bytes, atomic_write_text

        plain, files = {}, {}
        for field, v in value.items():
            if isinstance(v, dict) and v and all(isinstance(b, bytes) for b in v.values()):
                files[field] = sorted(v)
                (self.folder / key).mkdir(exist_ok=True)
                for name, data in v.items():
                    atomic_write_bytes(self.folder / key / f"{name}.npz", data)
            else:
                plain[field] = v
        atomic_write_text(self._json(key), json.dumps({**plain, "_files": files}, indent=1) + "\n")
        return value
