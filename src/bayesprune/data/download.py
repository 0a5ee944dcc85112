"""Download the paper's data files into a user cache, verifying every file's SHA-256.

The public source is the archive the authors published with their code (``data.zip`` in the repository
``rvdeo/bayes_prun``); it holds the files exactly in the format the registry expects. The address can be
overridden with ``--url`` or ``$BAYESPRUNE_MIRROR`` (for example a local copy of the archive).
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from bayesprune.data.registry import DatasetInfo, get_info
from bayesprune.errors import InputError

DEFAULT_URL = "https://github.com/rvdeo/bayes_prun/raw/HEAD/data.zip"
MIRROR_ENV = "BAYESPRUNE_MIRROR"


def cache_dir() -> Path:
    """The platform's user cache directory for bayesprune data (``~/.cache/bayesprune/data`` on Linux)."""
    from platformdirs import user_cache_dir

    return Path(os.environ.get("BAYESPRUNE_CACHE") or user_cache_dir("bayesprune")) / "data"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify(info: DatasetInfo, data_dir: Path) -> list[tuple[str, str]]:
    """Check every file of a data set; returns ``(relative path, status)`` with status ok/missing/mismatch."""
    results = []
    for rel, digest in info.sha256.items():
        path = data_dir / rel
        if not path.is_file():
            results.append((rel, "missing"))
        else:
            results.append((rel, "ok" if sha256_file(path) == digest else "mismatch"))
    return results


def _download(url: str, timeout: float) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (user-chosen URL)
            return resp.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise InputError(
            f"cannot download {url}: {reason}; check the network or pass --url with a reachable copy"
        ) from None


def fetch(name: str, *, url: str | None = None, dest: Path | None = None, timeout: float = 60.0) -> Path:
    """Download a named data set's files into ``dest`` (default: the cache) and verify them.

    Files are written only after every checksum matches, each through a temporary file and a rename, so an
    interrupted or corrupted download leaves nothing that looks complete.

    Returns
    -------
    Path
        The data directory now holding the data set.
    """
    info = get_info(name)
    if info.source != "file":
        raise InputError(f"data set '{name}' is embedded in scikit-learn; there is nothing to fetch")
    dest = Path(dest) if dest is not None else cache_dir()
    if info.base_url is not None:  # published file by file (MNIST): ``url`` is the folder that holds them
        base = (url or info.base_url).rstrip("/") + "/"
        files = {rel: base + rel.rsplit("/", 1)[-1] for rel in info.sha256}
        _write(dest, {rel: _checked(u, _download(u, timeout), info.sha256[rel]) for rel, u in files.items()})
        return dest
    url = url or os.environ.get(MIRROR_ENV) or DEFAULT_URL
    payload = _download(url, timeout)
    try:
        archive = zipfile.ZipFile(io.BytesIO(payload))
    except zipfile.BadZipFile:
        raise InputError(f"{url}: not a zip archive; expected the authors' data.zip") from None
    members = [m for m in archive.namelist() if not m.endswith("/")]
    contents: dict[str, bytes] = {}
    for rel, digest in info.sha256.items():
        member = _find_member(members, rel)
        if member is None:
            raise InputError(f"{url}: the archive has no file matching {rel}; is it the right archive?")
        contents[rel] = _checked(f"{url}: {member}", archive.read(member), digest)
    _write(dest, contents)
    return dest


def _checked(where: str, data: bytes, digest: str) -> bytes:
    got = hashlib.sha256(data).hexdigest()
    if got != digest:
        raise InputError(f"{where} has SHA-256 {got[:12]}..., expected {digest[:12]}...; the download is corrupt "
                         "or not the published file, nothing was written")
    return data


def _write(dest: Path, contents: dict[str, bytes]) -> None:
    """Write every file (each through a temporary file and a rename), after all were checked."""
    for rel, data in contents.items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        shutil.move(tmp, target)


def _find_member(members: list[str], rel: str) -> str | None:
    """The archive member whose path ends with ``rel`` (or, failing that, with its file name)."""
    rel_lower = rel.lower()
    for m in members:
        if m.lower().endswith(rel_lower):
            return m
    base = rel.rsplit("/", 1)[-1].lower()
    hits = [m for m in members if m.lower().rsplit("/", 1)[-1] == base and "__macosx" not in m.lower()]
    return hits[0] if len(hits) == 1 else None
