"""`data fetch` against a local HTTP server: checksums verified, nothing written on a bad file."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from functools import partial

import pytest

import bayesprune.data.registry as registry
from bayesprune.data import download
from bayesprune.data.registry import DatasetInfo
from bayesprune.errors import InputError

CONTENT = b"".join(f"{i},{i + 1},{i + 2},{i + 3},{i + 4}\n".encode() for i in range(30))


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture
def tiny_dataset(monkeypatch):
    info = DatasetInfo(name="tiny", task="regression", source="file", description="test", hidden=(3,),
                       path="tiny/tiny.csv", sha256={"tiny/tiny.csv": hashlib.sha256(CONTENT).hexdigest()})
    monkeypatch.setitem(registry._R, "tiny", info)
    return info


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_fetch_verifies_and_writes(server, tiny_dataset, tmp_path):
    root, base = server
    (root / "data.zip").write_bytes(_zip({"data/tiny/tiny.csv": CONTENT, "data/other.txt": b"x"}))
    dest = download.fetch("tiny", url=f"{base}/data.zip", dest=tmp_path / "cache")
    assert (dest / "tiny/tiny.csv").read_bytes() == CONTENT
    assert download.verify(tiny_dataset, dest) == [("tiny/tiny.csv", "ok")]
    from bayesprune.data import load_dataset

    ds = load_dataset("tiny", data_dir=dest)
    assert len(ds.y_train) == 18


def test_bad_checksum_rejected_and_nothing_written(server, tiny_dataset, tmp_path):
    root, base = server
    (root / "data.zip").write_bytes(_zip({"data/tiny/tiny.csv": CONTENT + b"1,2,3,4,5\n"}))
    with pytest.raises(InputError, match="SHA-256"):
        download.fetch("tiny", url=f"{base}/data.zip", dest=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_unreachable_and_not_a_zip(server, tiny_dataset, tmp_path):
    root, base = server
    with pytest.raises(InputError, match="cannot download"):
        download.fetch("tiny", url=f"{base}/missing.zip", dest=tmp_path / "c")
    (root / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a zip"):
        download.fetch("tiny", url=f"{base}/bad.zip", dest=tmp_path / "c")


def test_paper_files_match_published_checksums(data_dir):
    for info in registry.all_datasets().values():
        if info.source == "file":
            assert all(status == "ok" for _, status in download.verify(info, data_dir)), info.name
