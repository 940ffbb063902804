"""The release fetcher against a scripted HTTP server on 127.0.0.1: no other address is ever
contacted. Retries use a recorded fake sleep, so the tests take well under a second each."""

from __future__ import annotations

import hashlib
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from orchestration.lib.fetch import MANIFEST_HEADERS, FetchError, FetchResult, fetch_releases, known_sha256s
from orchestration.lib.release import read_manifest
from orchestration.settings import FetchTarget, targets_from_environment

# An old-style .xls starts with the OLE2 signature; the rest is arbitrary binary, CR/LF included,
# so any newline or encoding translation on the way to disk would show.
XLS_BODY = bytes.fromhex("d0cf11e0a1b11ae1") + bytes(range(256)) + b"\r\n\x00EBOPS \r\n"
CSV_BODY = b'"Dataset Name","Observation Date"\r\n"Trade in services","31-Jul-2026"\r\n'
API_KEY = "s3cr3t-K3y/with+chars"
FETCH_DAY = datetime(2026, 8, 15, 9, 30, tzinfo=UTC)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0


@dataclass
class Seen:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


class ScriptedServer:
    """Serves scripted replies per path, in order (the last one repeats), and records every request."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[Seen] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def route(self, path: str, *replies: Reply) -> str:
        self.routes[path] = list(replies)
        return self.url(path)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def hits(self, path: str) -> list[Seen]:
        return [seen for seen in self.requests if seen.path == path]

    def _next_reply(self, path: str) -> Reply:
        with self.lock:
            replies = self.routes.get(path)
            if not replies:
                return Reply(404, b"not found")
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
                parts = urlsplit(self.path)
                with server.lock:
                    server.requests.append(Seen(parts.path, parse_qs(parts.query), dict(self.headers.items())))
                reply = server._next_reply(parts.path)
                time.sleep(reply.delay_seconds)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    if reply.status != 304:
                        self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the timeout test): nothing to answer

            def log_message(self, *args) -> None:  # keep the test output quiet
                pass

        return Handler

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch):
    """httpx honours proxy variables: a proxy must never see (or forward) these requests."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as scripted:
        yield scripted


@pytest.fixture
def inbox(tmp_path) -> Path:
    return tmp_path / "inbox"


class FakeSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleep() -> FakeSleep:
    return FakeSleep()


def fetch(targets, inbox, *, sleep=None, day=FETCH_DAY, **options) -> list[FetchResult]:
    options = {"attempts": 4, "backoff_seconds": 0.01, "timeout_seconds": 2.0, **options}
    return fetch_releases(targets, inbox, now=lambda: day, sleep=sleep or FakeSleep(), **options)


def release_files(inbox: Path) -> list[str]:
    """What the sensor would consider: plain names that are not sidecars."""
    return sorted(
        p.name for p in inbox.iterdir() if not p.name.startswith(".") and not p.name.endswith(".manifest.json")
    )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- downloading


def test_a_download_is_stored_byte_for_byte_with_a_sidecar_manifest(server, inbox):
    headers = {
        "Content-Type": "application/vnd.ms-excel",
        "ETag": '"dt-v1"',
        "Last-Modified": "Fri, 14 Aug 2026 10:00:00 GMT",
    }
    url = server.route("/ecodata/dt.xls", Reply(200, XLS_BODY, headers))

    [result] = fetch([FetchTarget("ebops_workbook", url)], inbox)

    assert result.status == "downloaded"
    assert result.path == inbox / "20260815-dt.xls"
    assert result.path.read_bytes() == XLS_BODY
    assert (result.target, result.url, result.sha256) == ("ebops_workbook", url, sha256(XLS_BODY))
    assert result.fetched_at == FETCH_DAY
    manifest = read_manifest(result.path)
    assert (inbox / "20260815-dt.xls.manifest.json").is_file()
    assert manifest["target"] == "ebops_workbook"
    assert manifest["url"] == url
    assert manifest["fetched_at"] == "2026-08-15T09:30:00+00:00"
    assert manifest["http_status"] == 200
    assert manifest["sha256"] == sha256(XLS_BODY)
    assert manifest["size_bytes"] == len(XLS_BODY)
    assert manifest["file"] == "20260815-dt.xls"
    assert set(manifest["headers"]) == set(MANIFEST_HEADERS)
    assert manifest["headers"]["etag"] == '"dt-v1"'
    assert manifest["headers"]["last-modified"] == "Fri, 14 Aug 2026 10:00:00 GMT"
    assert manifest["headers"]["content-type"] == "application/vnd.ms-excel"
    assert manifest["headers"]["content-length"] == str(len(XLS_BODY))
    assert manifest["headers"]["content-disposition"] is None
    # no temporary file is left behind, and only the release and its sidecar are there
    assert sorted(p.name for p in inbox.iterdir()) == ["20260815-dt.xls", "20260815-dt.xls.manifest.json"]


def test_the_same_content_again_is_unchanged_and_writes_nothing(server, inbox):
    url = server.route("/ecodata/dt.xls", Reply(200, XLS_BODY))
    fetch([FetchTarget("ebops_workbook", url)], inbox)
    before = sorted(p.name for p in inbox.iterdir())

    [result] = fetch([FetchTarget("ebops_workbook", url)], inbox, day=datetime(2026, 8, 16, tzinfo=UTC))

    assert (result.status, result.path, result.sha256) == ("unchanged", None, sha256(XLS_BODY))
    assert sorted(p.name for p in inbox.iterdir()) == before
    assert len(server.hits("/ecodata/dt.xls")) == 2


def test_a_file_dropped_in_by_hand_counts_as_already_there(server, inbox):
    inbox.mkdir()
    (inbox / "my-copy.xls").write_bytes(XLS_BODY)  # no sidecar: its actual sha256 counts
    url = server.route("/ecodata/dt.xls", Reply(200, XLS_BODY))

    [result] = fetch([FetchTarget("ebops_workbook", url)], inbox)

    assert result.status == "unchanged"
    assert release_files(inbox) == ["my-copy.xls"]


def test_changed_content_is_a_new_file_and_the_old_one_is_kept(server, inbox):
    url = server.route("/ecodata/dt.xls", Reply(200, XLS_BODY), Reply(200, XLS_BODY + b"revised"))
    [first] = fetch([FetchTarget("ebops_workbook", url)], inbox)

    [second] = fetch([FetchTarget("ebops_workbook", url)], inbox, day=datetime(2026, 9, 16, tzinfo=UTC))

    assert second.status == "downloaded"
    assert second.path == inbox / "20260916-dt.xls"
    assert second.path.read_bytes() == XLS_BODY + b"revised"
    assert first.path.read_bytes() == XLS_BODY
    assert release_files(inbox) == ["20260815-dt.xls", "20260916-dt.xls"]
    assert known_sha256s(inbox) == {sha256(XLS_BODY), sha256(XLS_BODY + b"revised")}


def test_a_name_collision_with_different_content_does_not_overwrite(server, inbox):
    url = server.route("/ecodata/dt.xls", Reply(200, XLS_BODY), Reply(200, XLS_BODY + b"2"), Reply(200, b"three"))
    inbox.mkdir()
    (inbox / "20260815-dt.xls").write_bytes(b"someone else's file")

    results = [fetch([FetchTarget("ebops_workbook", url)], inbox)[0] for _ in range(3)]

    assert [r.path.name for r in results] == ["20260815-dt-2.xls", "20260815-dt-3.xls", "20260815-dt-4.xls"]
    assert (inbox / "20260815-dt.xls").read_bytes() == b"someone else's file"
    assert [r.path.read_bytes() for r in results] == [XLS_BODY, XLS_BODY + b"2", b"three"]
    assert all(read_manifest(r.path)["file"] == r.path.name for r in results)


@pytest.mark.parametrize(
    ("disposition", "expected"),
    [
        ('attachment; filename="Trade in Services.xls"', "20260815-Trade_in_Services.xls"),
        ("attachment; filename*=UTF-8''TS_GP_BOP_TRDSER_M%20July.csv", "20260815-TS_GP_BOP_TRDSER_M_July.csv"),
        ('attachment; filename="../../outside.csv"', "20260815-outside.csv"),
    ],
)
def test_the_content_disposition_filename_names_the_file(server, inbox, disposition, expected):
    url = server.route("/download", Reply(200, CSV_BODY, {"Content-Disposition": disposition}))

    [result] = fetch([FetchTarget("easydata_csv", url)], inbox)

    assert result.path == inbox / expected
    assert result.path.read_bytes() == CSV_BODY
    assert read_manifest(result.path)["headers"]["content-disposition"] == disposition


def test_without_a_file_name_in_the_url_the_target_name_is_used(server, inbox):
    url = server.route("/", Reply(200, CSV_BODY))

    [result] = fetch([FetchTarget("easydata_trdser", url)], inbox)

    assert result.path.name == "20260815-easydata_trdser"


def test_redirects_are_followed_and_the_served_file_is_named(server, inbox):
    server.route("/ecodata/new/Balancepayment_BPM6.xls", Reply(200, XLS_BODY))
    url = server.route("/ecodata/bop.xls", Reply(302, b"", {"Location": "/ecodata/new/Balancepayment_BPM6.xls"}))

    [result] = fetch([FetchTarget("bpm6_summary", url)], inbox)

    assert result.path.name == "20260815-Balancepayment_BPM6.xls"
    manifest = read_manifest(result.path)
    assert (manifest["url"], manifest["final_url"]) == (url, server.url("/ecodata/new/Balancepayment_BPM6.xls"))


def test_an_empty_body_is_an_error_not_an_empty_release(server, inbox):
    url = server.route("/ecodata/dt.xls", Reply(200, b""))

    with pytest.raises(FetchError, match="empty body"):
        fetch([FetchTarget("ebops_workbook", url)], inbox)
    assert not inbox.exists() or release_files(inbox) == []


def test_a_web_page_instead_of_the_file_is_an_error(server, inbox):
    page = b"<!DOCTYPE html><html><body>Page not found</body></html>"
    url = server.route("/ecodata/dt.xls", Reply(200, page, {"Content-Type": "text/html; charset=utf-8"}))

    with pytest.raises(FetchError, match="web page, not a data file.*ITX_FETCH_EBOPS_URL"):
        fetch([FetchTarget("ebops_workbook", url)], inbox)
    assert release_files(inbox) == []


# --------------------------------------------------------------------------- conditional requests


def test_a_304_to_the_conditional_request_is_unchanged(server, inbox):
    validators = {"ETag": '"bpm6-july"', "Last-Modified": "Thu, 13 Aug 2026 08:00:00 GMT"}
    url = server.route("/ecodata/Balancepayment_BPM6.xls", Reply(200, XLS_BODY, validators), Reply(304))
    fetch([FetchTarget("bpm6_summary", url)], inbox)
    before = sorted(p.name for p in inbox.iterdir())

    [result] = fetch([FetchTarget("bpm6_summary", url)], inbox, day=datetime(2026, 8, 20, tzinfo=UTC))

    first, second = server.hits("/ecodata/Balancepayment_BPM6.xls")
    assert "If-None-Match" not in first.headers and "If-Modified-Since" not in first.headers
    assert second.headers["If-None-Match"] == '"bpm6-july"'
    assert second.headers["If-Modified-Since"] == "Thu, 13 Aug 2026 08:00:00 GMT"
    assert (result.status, result.path, result.sha256) == ("unchanged", None, sha256(XLS_BODY))
    assert sorted(p.name for p in inbox.iterdir()) == before


def test_conditional_headers_come_from_the_latest_manifest_of_the_same_url(server, inbox):
    url = server.route(
        "/ecodata/dt.xls",
        Reply(200, XLS_BODY, {"ETag": '"v1"'}),
        Reply(200, XLS_BODY + b"v2", {"ETag": '"v2"'}),
        Reply(304),
    )
    other = server.route("/other.xls", Reply(200, b"other", {"ETag": '"other"'}))
    fetch([FetchTarget("ebops_workbook", url)], inbox, day=datetime(2026, 7, 15, tzinfo=UTC))
    fetch([FetchTarget("ebops_workbook", url)], inbox, day=datetime(2026, 8, 15, tzinfo=UTC))
    fetch([FetchTarget("other", other)], inbox, day=datetime(2026, 8, 16, tzinfo=UTC))

    [result] = fetch([FetchTarget("ebops_workbook", url)], inbox, day=datetime(2026, 8, 17, tzinfo=UTC))

    assert server.hits("/ecodata/dt.xls")[-1].headers["If-None-Match"] == '"v2"'
    assert (result.status, result.sha256) == ("unchanged", sha256(XLS_BODY + b"v2"))


# --------------------------------------------------------------------------- retries and errors


@pytest.mark.parametrize("status", [500, 429])
def test_a_passing_server_error_is_retried_with_backoff(server, inbox, sleep, status):
    url = server.route("/ecodata/dt.xls", Reply(status), Reply(status), Reply(200, XLS_BODY))

    [result] = fetch([FetchTarget("ebops_workbook", url)], inbox, sleep=sleep, backoff_seconds=0.5)

    assert result.status == "downloaded"
    assert len(server.hits("/ecodata/dt.xls")) == 3
    assert sleep.delays == [0.5, 1.0]  # backoff_seconds * 2**i


def test_a_persistent_server_error_fails_after_every_attempt(server, inbox, sleep):
    url = server.route("/ecodata/dt.xls", Reply(503, b"maintenance"))

    with pytest.raises(FetchError) as raised:
        fetch([FetchTarget("ebops_workbook", url)], inbox, sleep=sleep, attempts=4, backoff_seconds=0.01)

    assert len(server.hits("/ecodata/dt.xls")) == 4
    assert sleep.delays == [0.01, 0.02, 0.04]
    message = str(raised.value)
    assert "ebops_workbook" in message and url in message
    assert "503" in message and "4 tries" in message and "try again later" in message
    assert release_files(inbox) == []


def test_a_404_fails_at_once_naming_the_target_and_the_url(server, inbox, sleep):
    url = server.url("/ecodata/moved.xls")

    with pytest.raises(FetchError) as raised:
        fetch([FetchTarget("ebops_workbook", url)], inbox, sleep=sleep)

    assert len(server.hits("/ecodata/moved.xls")) == 1
    assert sleep.delays == []
    message = str(raised.value)
    assert "ebops_workbook" in message and url in message and "404" in message
    assert "no file at this URL: check ITX_FETCH_EBOPS_URL" in message
    assert [type(f) for f in raised.value.failures] == [FetchError]


def test_a_401_on_a_key_target_says_to_check_the_api_key(server, inbox):
    url = server.route("/api/v1/series/X/data", Reply(401, b'{"error": "invalid key"}'))

    with pytest.raises(FetchError, match="check ITX_EASYDATA_API_KEY"):
        fetch([FetchTarget("easydata_trdser", url, needs_api_key=True)], inbox, api_key=API_KEY)
    assert len(server.hits("/api/v1/series/X/data")) == 1


def test_a_closed_port_is_a_network_error_after_the_retries(inbox, sleep):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/ecodata/dt.xls"

    with pytest.raises(FetchError) as raised:
        fetch([FetchTarget("ebops_workbook", url)], inbox, sleep=sleep, attempts=3)

    assert sleep.delays == [0.01, 0.02]  # three tries
    message = str(raised.value)
    assert "network error" in message and "ebops_workbook" in message and url in message


def test_a_timeout_is_retried_then_fails(server, inbox, sleep):
    url = server.route("/slow.xls", Reply(200, XLS_BODY, delay_seconds=0.5))

    started = time.monotonic()
    with pytest.raises(FetchError, match="network error .*Timeout"):
        fetch([FetchTarget("ebops_workbook", url)], inbox, sleep=sleep, attempts=2, timeout_seconds=0.1)

    assert len(server.hits("/slow.xls")) == 2
    assert time.monotonic() - started < 2


def test_one_failing_target_does_not_lose_the_others(server, inbox):
    good = server.route("/ecodata/Balancepayment_BPM6.xls", Reply(200, XLS_BODY))
    bad = server.url("/ecodata/gone.xls")
    also_good = server.route("/ecodata/dt.xls", Reply(200, b"the ebops workbook"))
    targets = [FetchTarget("bpm6_summary", good), FetchTarget("ebops_workbook", bad), FetchTarget("other", also_good)]

    with pytest.raises(FetchError) as raised:
        fetch(targets, inbox)

    assert release_files(inbox) == ["20260815-Balancepayment_BPM6.xls", "20260815-dt.xls"]
    error = raised.value
    assert "1 of 3" in str(error) and "ebops_workbook" in str(error) and bad in str(error)
    assert "bpm6_summary" not in str(error)
    assert [r.target for r in error.results] == ["bpm6_summary", "other"]
    assert [r.status for r in error.results] == ["downloaded", "downloaded"]


# --------------------------------------------------------------------------- the API key


def test_the_api_key_is_sent_but_never_written_raised_or_logged(server, inbox, caplog):
    caplog.set_level(logging.DEBUG)
    path = "/api/v1/series/TS_GP_BOP_TRDSER_M.X/data"
    data_url = server.route(path, Reply(200, CSV_BODY, {"Content-Type": "text/csv"}))
    public = server.route("/ecodata/dt.xls", Reply(200, XLS_BODY))
    refused = server.route("/api/v1/series/Y/data", Reply(403, b"forbidden"))
    targets = [
        FetchTarget("easydata_trdser", data_url + "?format=csv&start_date=2015-07-01", needs_api_key=True),
        FetchTarget("ebops_workbook", public),
        FetchTarget("easydata_refused", refused + "?format=csv", needs_api_key=True),
    ]

    with pytest.raises(FetchError) as raised:
        fetch(targets, inbox, api_key=API_KEY)

    [sent] = server.hits(path)
    assert sent.query["api_key"] == [API_KEY]
    assert sent.query["format"] == ["csv"]
    assert "api_key" not in server.hits("/ecodata/dt.xls")[0].query  # never sent where it is not needed
    stored = raised.value.results[0]
    assert stored.url == data_url + "?format=csv&start_date=2015-07-01&api_key=REDACTED"
    assert read_manifest(stored.path)["url"] == stored.url
    assert "check ITX_EASYDATA_API_KEY" in str(raised.value)
    spellings = (API_KEY, "s3cr3t-K3y%2Fwith%2Bchars", "s3cr3t-K3y/with")
    for spelling in spellings:
        assert all(spelling not in p.name for p in inbox.iterdir())
        assert all(spelling not in p.read_text() for p in inbox.glob("*.manifest.json"))
        assert spelling not in str(raised.value) and spelling not in repr(raised.value.results)
        assert all(spelling not in str(failure) for failure in raised.value.failures)
        assert all(spelling not in record.getMessage() for record in caplog.records)
    assert any("api_key=REDACTED" in record.getMessage() for record in caplog.records)


def test_a_key_target_without_a_key_fails_without_a_request(server, inbox):
    url = server.route("/api/v1/series/X/data", Reply(200, CSV_BODY))

    with pytest.raises(FetchError, match="set ITX_EASYDATA_API_KEY"):
        fetch([FetchTarget("easydata_trdser", url, needs_api_key=True)], inbox, api_key=None)
    assert server.hits("/api/v1/series/X/data") == []


# --------------------------------------------------------------------------- configuration and inbox helpers


def test_default_targets_are_the_two_sbp_workbooks():
    targets = targets_from_environment({})

    assert targets == [
        FetchTarget("ebops_workbook", "https://www.sbp.org.pk/ecodata/dt.xls"),
        FetchTarget("bpm6_summary", "https://www.sbp.org.pk/ecodata/Balancepayment_BPM6.xls"),
    ]


def test_targets_can_be_moved_disabled_and_easydata_switched_on():
    easydata = "https://easydata.sbp.org.pk/api/v1/series/TS_GP_BOP_TRDSER_M.X/data?format=csv"
    targets = targets_from_environment(
        {
            "ITX_FETCH_EBOPS_URL": "https://mirror.example/dt.xls",
            "ITX_FETCH_BPM6_URL": "",
            "ITX_FETCH_EASYDATA_URL": easydata,
            "ITX_EASYDATA_API_KEY": API_KEY,
        }
    )

    assert targets == [
        FetchTarget("ebops_workbook", "https://mirror.example/dt.xls"),
        FetchTarget("easydata_trdser", easydata, needs_api_key=True),
    ]
    assert all(API_KEY not in repr(t) for t in targets)


def test_read_manifest_is_none_without_a_sidecar(tmp_path):
    (tmp_path / "release.csv").write_bytes(CSV_BODY)

    assert read_manifest(tmp_path / "release.csv") is None


def test_known_sha256s_reads_sidecars_and_files_but_not_temporary_files(tmp_path):
    (tmp_path / "by-hand.csv").write_bytes(CSV_BODY)
    (tmp_path / "gone.xls.manifest.json").write_text(json.dumps({"sha256": "ab" * 32}))
    (tmp_path / ".download.half.part").write_bytes(b"half a file")

    assert known_sha256s(tmp_path) == {sha256(CSV_BODY), "ab" * 32}
    assert known_sha256s(tmp_path / "missing") == set()
