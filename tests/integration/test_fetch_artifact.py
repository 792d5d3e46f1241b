"""ovnk.udn_lab.fetch_artifact through Ansible, against a real HTTP server on loopback."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading

import pytest


class _Server:
    """Serves /file with programmable content and a number of initial failures; counts requests."""

    def __init__(self):
        self.content = b"artifact v1\n"
        self.failures = 0
        self.requests = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server API)
                outer.requests += 1
                if outer.failures > 0:
                    outer.failures -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(outer.content)))
                self.end_headers()
                self.wfile.write(outer.content)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/file" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    srv = _Server()
    yield srv
    srv.close()


def _artifact(url, sha=None, local=False, upstream=None):
    return {"name": "demo", "url": url, "upstream_url": upstream or url, "local": local, "sha256": sha,
            "file": "file"}


def test_pinned_download_is_verified_then_left_alone(run_module, server, tmp_path):
    dest = tmp_path / "demo"
    sha = hashlib.sha256(server.content).hexdigest()
    first = run_module("ovnk.udn_lab.fetch_artifact",
                       {"artifact": _artifact(server.url, sha), "dest": str(dest), "mode": "0755"})
    assert first.get("failed") is not True, first
    assert first["changed"] is True and first["verified_by"] == "pinned" and first["sha256"] == sha
    assert dest.read_bytes() == server.content and oct(dest.stat().st_mode & 0o777) == "0o755"
    requests = server.requests
    second = run_module("ovnk.udn_lab.fetch_artifact",
                        {"artifact": _artifact(server.url, sha), "dest": str(dest), "mode": "0755"})
    assert second["changed"] is False
    assert server.requests == requests, "an up-to-date file must not be downloaded again"


def test_pinned_mismatch_fails_and_writes_nothing(run_module, server, tmp_path):
    dest = tmp_path / "demo"
    result = run_module("ovnk.udn_lab.fetch_artifact",
                        {"artifact": _artifact(server.url, "0" * 64), "dest": str(dest), "delay": 0})
    assert result["failed"] is True
    assert "versions.yml pins " + "0" * 64 in result["msg"]
    assert not dest.exists()


def test_transient_errors_are_retried(run_module, server, tmp_path):
    server.failures = 2
    result = run_module("ovnk.udn_lab.fetch_artifact",
                        {"artifact": _artifact(server.url), "dest": str(tmp_path / "demo"), "retries": 3, "delay": 0})
    assert result.get("failed") is not True, result
    assert result["attempts"] == 3


def test_gives_up_with_the_offline_hint(run_module, server, tmp_path):
    server.failures = 10
    result = run_module("ovnk.udn_lab.fetch_artifact",
                        {"artifact": _artifact(server.url), "dest": str(tmp_path / "demo"), "retries": 1, "delay": 0})
    assert result["failed"] is True
    assert "after 2 attempts" in result["msg"] and "udn_lab_mirror_dir" in result["msg"]


def test_unpinned_is_recorded_on_first_use_and_a_change_is_refused(run_module, server, tmp_path):
    record = tmp_path / "checksums.json"
    dest = tmp_path / "demo"
    first = run_module("ovnk.udn_lab.fetch_artifact",
                       {"artifact": _artifact(server.url), "dest": str(dest), "record": str(record)})
    assert first["verified_by"] == "first-use" and first["changed"] is True
    assert json.loads(record.read_text()) == {server.url: hashlib.sha256(server.content).hexdigest()}
    dest.unlink()
    server.content = b"artifact v2 (tampered)\n"
    second = run_module("ovnk.udn_lab.fetch_artifact",
                        {"artifact": _artifact(server.url), "dest": str(dest), "record": str(record)})
    assert second["failed"] is True and "changed upstream" in second["msg"]
    assert not dest.exists()


def test_mirror_file_is_copied_and_check_mode_writes_nothing(run_module, tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "file").write_bytes(b"mirrored\n")
    sha = hashlib.sha256(b"mirrored\n").hexdigest()
    art = _artifact(str(mirror / "file"), sha, local=True, upstream="https://example.invalid/file")
    dest = tmp_path / "demo"
    predicted = run_module("ovnk.udn_lab.fetch_artifact", {"artifact": art, "dest": str(dest)}, check=True)
    assert predicted["changed"] is True and not dest.exists()
    done = run_module("ovnk.udn_lab.fetch_artifact", {"artifact": art, "dest": str(dest)})
    assert done["changed"] is True and dest.read_bytes() == b"mirrored\n"
    again = run_module("ovnk.udn_lab.fetch_artifact", {"artifact": art, "dest": str(dest)}, check=True)
    assert again["changed"] is False


def test_missing_mirror_file_names_the_fix(run_module, tmp_path):
    art = _artifact(str(tmp_path / "nope"), local=True, upstream="https://example.invalid/nope")
    result = run_module("ovnk.udn_lab.fetch_artifact", {"artifact": art, "dest": str(tmp_path / "demo")})
    assert result["failed"] is True and "udn_lab_mirror_dir" in result["msg"]
