"""The Hub upload against a local stand-in server speaking the endpoints upload_folder uses.

The hub is unreachable here, so the test starts a small HTTP server of its own that answers
``POST /api/repos/create``, ``POST /api/models/{repo}/preupload/{rev}`` (every file
"regular", so no LFS/Xet transfer) and ``POST /api/models/{repo}/commit/{rev}`` (NDJSON
header + base64 file lines), and records what arrived. ``HF_ENDPOINT`` points the real
``huggingface_hub`` client at it.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest


class HubStandin(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), HubHandler)
        self.repos: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, bytes]] = {}
        self.commits: list[dict[str, Any]] = []
        self.unknown: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class HubHandler(BaseHTTPRequestHandler):
    server: HubStandin

    def log_message(self, *args: Any) -> None:  # keep pytest output clean
        pass

    def _reply(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_POST(self) -> None:
        body = self._body()
        path = self.path.split("?")[0]
        if path == "/api/repos/create":
            request = json.loads(body)
            repo = f"{request.get('organization') or 'user'}/{request['name']}"
            if request["name"] == "forbidden":
                self._reply(403, {"error": "You don't have the rights to create this repo"})
                return
            self.server.repos[repo] = request
            self.server.files.setdefault(repo, {})
            self._reply(200, {"url": f"{self.server.url}/{repo}", "name": repo, "id": repo})
            return
        parts = path.split("/")
        if len(parts) >= 7 and parts[1:3] == ["api", "models"] and parts[5] == "preupload":
            files = json.loads(body)["files"]
            self._reply(200, {"files": [{"path": f["path"], "uploadMode": "regular",
                                         "shouldIgnore": False} for f in files]})
            return
        if len(parts) >= 7 and parts[1:3] == ["api", "models"] and parts[5] == "commit":
            repo = f"{parts[3]}/{parts[4]}"
            lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
            header = next(x["value"] for x in lines if x["key"] == "header")
            for item in lines:
                if item["key"] == "file":
                    value = item["value"]
                    self.server.files[repo][value["path"]] = base64.b64decode(value["content"])
            self.server.commits.append({"repo": repo, **header})
            oid = f"{len(self.server.commits):040x}"
            self._reply(200, {"commitUrl": f"{self.server.url}/{repo}/commit/{oid}",
                              "commitOid": oid, "pullRequestUrl": None})
            return
        self.server.unknown.append(f"POST {path}")
        self._reply(404, {"error": f"stand-in hub: no route POST {path}"})

    def do_GET(self) -> None:
        if not self.path.startswith("/api/agent-harnesses"):  # optional client telemetry
            self.server.unknown.append(f"GET {self.path}")
        self._reply(404, {"error": f"stand-in hub: no route GET {self.path}"})


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[HubStandin]:
    server = HubStandin()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setenv("HF_TOKEN", "hf_standin_token")
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _release_dir(root: Path) -> Path:
    root.mkdir()
    (root / "config.json").write_text('{"model_type": "llama"}')
    (root / "model.safetensors").write_bytes(bytes(range(256)) * 64)
    (root / "tokenizer.json").write_text('{"version": "1.0"}')
    (root / ".codekiln-run.json").write_text('{"run_id": "local"}')
    return root


def test_push_uploads_every_file_but_the_marker(hub: HubStandin, tmp_path: Path) -> None:
    from codekiln_train.hub import push_to_hub

    folder = _release_dir(tmp_path / "release")
    url = push_to_hub(folder, "acme/tiny-base", commit_message="release tiny-base")
    assert hub.unknown == []
    assert hub.repos["acme/tiny-base"]["type"] == "model"
    received = hub.files["acme/tiny-base"]
    assert set(received) == {"config.json", "model.safetensors", "tokenizer.json"}
    assert received["model.safetensors"] == (folder / "model.safetensors").read_bytes()
    assert hub.commits[0]["summary"] == "release tiny-base"
    assert url.startswith(f"{hub.url}/acme/tiny-base/commit/")


def test_hub_refusal_is_a_one_line_error(hub: HubStandin, tmp_path: Path) -> None:
    from codekiln_core.errors import ConfigError
    from codekiln_train.hub import push_to_hub

    folder = _release_dir(tmp_path / "release")
    with pytest.raises(ConfigError, match="OWNER/NAME"):
        push_to_hub(folder, "no-owner")
    with pytest.raises(ConfigError, match=r"acme/forbidden: the hub at .* answered 403"):
        push_to_hub(folder, "acme/forbidden")
    hub.shutdown()  # a hub that stopped answering must not hang or leak a traceback
    hub.server_close()
    with pytest.raises(ConfigError, match=r"acme/x: cannot reach the hub"):
        push_to_hub(folder, "acme/x")
