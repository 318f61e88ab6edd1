"""The distribution spec's token flow, against a small registry that asks for Bearer tokens: the
client fetches a token for the repository's scope with its credentials, or with the refresh token a
login got, and anonymous access is refused with the token server's words."""
from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from berth.distribution.auth import Credentials
from berth.distribution.client import Registry, Repository
from berth.distribution.login import login
from berth.distribution.policy import RegistryPolicy
from berth.errdefs import Unauthorized

USER, PASSWORD, REFRESH = "alice", "wonderland", "refresh-1"


class TokenRegistry(BaseHTTPRequestHandler):
    """/v2/ wants `Bearer <token for the scope>`; /token gives one for Basic credentials or a refresh token."""

    def log_message(self, *args: object) -> None:
        pass

    def reply(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", "Content-Length": str(len(data)), **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def token(self, scopes: list[str], refresh: bool) -> None:
        body = {"token": "token-for " + " ".join(scopes), "expires_in": 300}
        self.reply(200, {**body, **({"refresh_token": REFRESH} if refresh else {})})

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path == "/token":
            basic = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            if self.headers.get("Authorization") != basic:
                return self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "incorrect username or password"}]})
            return self.token(query.get("scope", []), refresh=query.get("offline_token") == ["true"])
        scope = f"repository:{url.path.split('/')[2]}:pull" if url.path.count("/") > 2 else ""
        if self.headers.get("Authorization") != f"Bearer token-for {scope}".rstrip():
            realm = f"http://{self.headers['Host']}/token"
            return self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
                              {"WWW-Authenticate": f'Bearer realm="{realm}",service="test"'})
        self.reply(200, {"name": "app", "tags": ["1.0"]} if scope else {})

    def do_POST(self) -> None:
        form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        if self.path == "/token" and form.get("refresh_token") == [REFRESH] and form.get("grant_type") == ["refresh_token"]:
            return self.token(form.get("scope", [""])[0].split(), refresh=False)
        self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad refresh token"}]})


@pytest.fixture
def token_registry() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), TokenRegistry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def tags(host: str, credentials: Credentials) -> list[str]:
    with Registry(RegistryPolicy(), host, credentials) as registry:
        return Repository(registry, "app").tags()


def test_credentials_get_a_token_for_the_repository(token_registry):
    assert tags(token_registry, Credentials(USER, PASSWORD)) == ["1.0"]


def test_without_credentials_the_token_server_says_why(token_registry):
    with pytest.raises(Unauthorized, match="unauthorized: incorrect username or password"):
        tags(token_registry, Credentials())


def test_login_gets_a_refresh_token_that_later_requests_use(token_registry):
    assert login(RegistryPolicy(), token_registry, Credentials(USER, PASSWORD)) == REFRESH
    assert tags(token_registry, Credentials(identity_token=REFRESH)) == ["1.0"]
    with pytest.raises(Unauthorized):
        login(RegistryPolicy(), token_registry, Credentials(USER, "wrong"))
