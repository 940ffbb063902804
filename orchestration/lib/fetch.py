"""Download SBP's current release files into the release inbox, unchanged, each with a manifest.

Pure Python, no Dagster: a schedule, the CLI and the tests call `fetch_releases`. The inbox is
the folder the release sensor scans (ITX_INBOX); every file that appears there under a plain
name is treated as a release, so this module is careful about what it puts there:

- A download is written under a temporary name starting with "." (which the scanner ignores)
  and only then linked to its final name, so the sensor never sees a half-written file.
- Each stored file gets a sidecar `<file name>.manifest.json` (ignored by the scanner) saying
  where and when it came from, its HTTP validators and its sha256.
- Nothing is ever overwritten: a name already taken gets `-2`, `-3`... before the suffix.
- A body already in the inbox (by any sidecar's sha256 or any file's actual sha256) is not
  stored again: the result is 'unchanged'. So is a 304 to the conditional request built from
  the last manifest of the same URL.

The EasyData API key travels only in the `api_key` query parameter of the targets that need it.
It is redacted (`api_key=REDACTED`) in every URL this module logs, stores or puts in an error,
and httpx's own request log line is redacted too (see `_RedactApiKeyInLogs`).

Failures: every target is tried; if any failed, one `FetchError` lists all the failures after
the successful downloads have been stored (they are also on the error's `results`).
"""

from __future__ import annotations

import email.message
import hashlib
import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath
from urllib.parse import quote, quote_plus, unquote

import httpx

from orchestration.lib.release import MANIFEST_SUFFIX, file_sha256, load_manifest, manifest_path
from orchestration.settings import EASYDATA_API_KEY_VARIABLE as API_KEY_VARIABLE
from orchestration.settings import FETCH_URL_VARIABLES, FetchTarget

logger = logging.getLogger(__name__)

API_KEY_PARAM = "api_key"
REDACTED = "REDACTED"
USER_AGENT = "itx-release-fetcher (python-httpx)"

# Response headers worth keeping in the manifest: the validators for the next conditional
# request, and what the server said the file was.
MANIFEST_HEADERS = ("etag", "last-modified", "content-type", "content-length", "content-disposition", "date")

_API_KEY_IN_TEXT = re.compile(rf"({API_KEY_PARAM}=)[^&#\s\"'>]*", re.IGNORECASE)
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME_LENGTH = 150


@dataclass(frozen=True)
class FetchResult:
    target: str
    url: str  # with the api key redacted
    status: str  # 'downloaded' | 'unchanged'
    path: Path | None  # the stored file (None when unchanged and nothing written)
    sha256: str
    fetched_at: datetime  # UTC


class FetchError(RuntimeError):
    """A target could not be fetched. The message names the target, the redacted URL, the HTTP
    status or network error, and what to do. The error `fetch_releases` raises at the end lists
    every failed target in `failures` and carries the stored downloads in `results`."""

    def __init__(
        self,
        message: str,
        *,
        failures: Sequence[FetchError] = (),
        results: Sequence[FetchResult] = (),
    ):
        super().__init__(message)
        self.failures = tuple(failures)
        self.results = tuple(results)


# --------------------------------------------------------------------------- redaction


class _Redactor:
    """Removes the API key from any text: as a query parameter value, raw, or URL-encoded."""

    def __init__(self, api_key: str | None):
        secrets = {api_key, quote(api_key, safe=""), quote_plus(api_key)} if api_key else set()
        # Longest first, so a key's encoded form is not half-replaced by a shorter spelling.
        self._secrets = sorted((s for s in secrets if s), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        text = _API_KEY_IN_TEXT.sub(rf"\g<1>{REDACTED}", text)
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


class _RedactApiKeyInLogs(logging.Filter):
    """httpx logs every request's full URL at INFO; with a key target that URL holds the key.
    This filter rewrites those records with `api_key=REDACTED` before any handler sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _API_KEY_IN_TEXT.sub(rf"\g<1>{REDACTED}", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def _install_log_redaction() -> None:
    for name in ("httpx", "httpcore"):
        named_logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactApiKeyInLogs) for f in named_logger.filters):
            named_logger.addFilter(_RedactApiKeyInLogs())


_install_log_redaction()


# --------------------------------------------------------------------------- targets
# The targets and their URL variables are configuration: FetchTarget in orchestration/settings.py.


def _url_variable(target: FetchTarget) -> str:
    return FETCH_URL_VARIABLES.get(target.name, f"ITX_FETCH_{target.name.upper()}_URL")


# --------------------------------------------------------------------------- manifests


def _inbox_entries(inbox: Path) -> Iterator[Path]:
    """Files in the inbox, without temporary (dot) files, which may be half-written."""
    if not inbox.is_dir():
        return
    for path in sorted(inbox.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            yield path


def _manifests(inbox: Path) -> Iterator[dict]:
    for path in _inbox_entries(inbox):
        if path.name.endswith(MANIFEST_SUFFIX):
            manifest = load_manifest(path)
            if manifest is not None:
                yield manifest


def last_download_date(inbox: Path) -> date | None:
    """The day (UTC) of the newest download in the inbox, from the manifests beside the files."""
    days = [fetched.date() for m in _manifests(inbox) if (fetched := _parse_time(m.get("fetched_at")))]
    return max(days, default=None)


def known_sha256s(inbox: Path) -> set[str]:
    """Every sha256 the inbox already holds: each sidecar's recorded sha256 and each file's
    actual sha256 (files dropped in by hand have no sidecar)."""
    known = set()
    for path in _inbox_entries(inbox):
        if path.name.endswith(MANIFEST_SUFFIX):
            sha256 = (load_manifest(path) or {}).get("sha256")
            if isinstance(sha256, str):
                known.add(sha256)
        else:
            known.add(file_sha256(path))
    return known


def _last_manifest_for(inbox: Path, url: str) -> dict | None:
    """The most recent manifest of the same (redacted) URL: its validators make the request
    conditional, so an unchanged file costs a 304 instead of a download."""
    dated = [(_parse_time(m.get("fetched_at")), m) for m in _manifests(inbox) if m.get("url") == url]
    dated = [(when, m) for when, m in dated if when is not None]
    return max(dated, key=lambda pair: pair[0], default=(None, None))[1]


def _parse_time(value: object) -> datetime | None:
    try:
        return _utc(datetime.fromisoformat(value)) if isinstance(value, str) else None
    except ValueError:
        return None


def _conditional_headers(manifest: dict | None) -> dict[str, str]:
    headers = (manifest or {}).get("headers") or {}
    conditions = {}
    if headers.get("etag"):
        conditions["If-None-Match"] = headers["etag"]
    if headers.get("last-modified"):
        conditions["If-Modified-Since"] = headers["last-modified"]
    return conditions


# --------------------------------------------------------------------------- storing


def _filename_from_content_disposition(value: str | None) -> str | None:
    if not value:
        return None
    # email.message parses both filename="..." and RFC 5987/2231 filename*=UTF-8''... forms.
    message = email.message.Message()
    message["content-disposition"] = value
    filename = message.get_filename()
    return filename or None


def _safe_name(raw: str, redact: _Redactor) -> str:
    """A plain file name: no directories, no leading dot (the scanner would ignore it), no
    sidecar suffix, no API key, nothing a shell or another OS would trip on."""
    name = redact(raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_NAME_CHARS.sub("_", name).lstrip(".")
    if name.endswith(MANIFEST_SUFFIX):
        name = name[: -len(MANIFEST_SUFFIX)] + "_manifest.json"
    return name[-_MAX_NAME_LENGTH:]


def _stored_name(target: FetchTarget, response: httpx.Response, fetched_at: datetime, redact: _Redactor) -> str:
    """`YYYYMMDD-<name>`: the Content-Disposition filename, else the final URL's basename, else the
    target name. The final URL (after redirects) names the file actually served."""
    candidates = (
        _filename_from_content_disposition(response.headers.get("content-disposition")),
        unquote(PurePosixPath(response.url.path).name),
        target.name,
    )
    name = next((safe for raw in candidates if raw and (safe := _safe_name(raw, redact))), "download")
    return f"{fetched_at:%Y%m%d}-{name}"


def _numbered_names(name: str) -> Iterator[str]:
    """`name`, then `stem-2.suffix`, `stem-3.suffix`..."""
    yield name
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    number = 2
    while True:
        yield f"{stem}-{number}{dot}{suffix}"
        number += 1


def _write_temporary(directory: Path, data: bytes, label: str) -> Path:
    """Write `data` to a fresh dot-file in `directory`: the scanner ignores dot-files, so a
    crash mid-write leaves nothing that looks like a release."""
    fd, name = tempfile.mkstemp(dir=directory, prefix=f".{label}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _publish(temporary: Path, inbox: Path, name: str) -> Path:
    """Give the finished temporary file its final name without ever replacing an existing file.

    A hard link fails atomically if the name exists, even against a concurrent fetcher; on a
    filesystem without hard links, fall back to check-then-rename. A name whose sidecar exists
    (its file was removed) is skipped too, so a stale manifest is never attached to new bytes.
    """
    for candidate in _numbered_names(name):
        final = inbox / candidate
        if manifest_path(final).exists():
            continue
        try:
            os.link(temporary, final)
        except FileExistsError:
            continue
        except OSError:
            if final.exists():
                continue
            os.replace(temporary, final)
            return final
        temporary.unlink()
        return final
    raise AssertionError("unreachable: _numbered_names is endless")


def _manifest(
    target: FetchTarget,
    shown_url: str,
    response: httpx.Response,
    fetched_at: datetime,
    sha256: str,
    path: Path,
    redact: _Redactor,
) -> dict:
    """What the sidecar records. Every URL in it is redacted; headers absent from the response are null."""
    return {
        "target": target.name,
        "url": shown_url,
        "final_url": redact(str(response.url)),  # after redirects
        "fetched_at": fetched_at.isoformat(),
        "http_status": response.status_code,
        "headers": {name: response.headers.get(name) for name in MANIFEST_HEADERS},
        "sha256": sha256,
        "size_bytes": len(response.content),
        "file": path.name,
    }


def _write_sidecar(path: Path, manifest: dict) -> None:
    data = (json.dumps(manifest, indent=2, sort_keys=False) + "\n").encode("utf-8")
    temporary = _write_temporary(path.parent, data, "manifest")
    os.replace(temporary, manifest_path(path))


# --------------------------------------------------------------------------- HTTP


def _request_urls(target: FetchTarget, api_key: str | None, redact: _Redactor) -> tuple[httpx.URL, str]:
    """The URL to request (with the key, for key targets only) and its redacted spelling."""
    try:
        url = httpx.URL(target.url)
    except httpx.InvalidURL as exc:
        raise FetchError(
            f"{target.name}: {redact(target.url)!r} is not a valid URL ({redact(str(exc))}): "
            f"check {_url_variable(target)}"
        ) from None
    if target.needs_api_key:
        url = url.copy_merge_params({API_KEY_PARAM: api_key or ""})
    return url, redact(str(url))


def _hint_for_status(target: FetchTarget, status: int) -> str:
    variable = _url_variable(target)
    if status in (401, 403) and target.needs_api_key:
        return f"check {API_KEY_VARIABLE} (EasyData keys expire after about 90 days)"
    if status in (401, 403):
        return f"the server refused access: check {variable} still points at a public file"
    if status == 404:
        return f"no file at this URL: check {variable}"
    if status in (410, 301, 302, 303, 307, 308):
        return f"the file has moved: find its new address on SBP's economic-data pages and set {variable}"
    return f"check {variable}"


def _looks_like_a_web_page(response: httpx.Response) -> bool:
    """Sites often answer a moved file with 200 and an HTML page; stored, it would be a bogus
    release the sensor complains about on every tick. Both the type and the body must say HTML."""
    content_type = response.headers.get("content-type", "").lower()
    start = response.content[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return "text/html" in content_type and start.startswith((b"<!doctype html", b"<html"))


def _worth_retrying(exc: httpx.HTTPError) -> bool:
    """Connection refused, DNS, TLS, timeouts and broken responses may pass; a URL without
    http(s):// or a redirect loop will not."""
    return isinstance(exc, httpx.TransportError) and not isinstance(exc, httpx.UnsupportedProtocol)


def _get_with_retries(
    client: httpx.Client,
    target: FetchTarget,
    url: httpx.URL,
    shown_url: str,
    headers: Mapping[str, str],
    *,
    attempts: int,
    backoff_seconds: float,
    timeout_seconds: float,
    sleep: Callable[[float], None],
    redact: _Redactor,
) -> httpx.Response:
    """GET, following redirects. Network errors, timeouts, 5xx and 429 are retried with
    exponential backoff (backoff_seconds * 2**i); any other failure is final at once."""
    last_problem = ""
    for attempt in range(attempts):
        if attempt:
            delay = backoff_seconds * 2 ** (attempt - 1)
            logger.warning("%s: %s; retry %d of %d in %.2f s", target.name, last_problem, attempt, attempts - 1, delay)
            sleep(delay)
        try:
            response = client.get(url, headers=headers, follow_redirects=True, timeout=timeout_seconds)
        except httpx.HTTPError as exc:
            if not _worth_retrying(exc):
                raise FetchError(
                    f"{target.name}: GET {shown_url} failed: {type(exc).__name__}: {redact(str(exc))}; "
                    f"check {_url_variable(target)}"
                ) from None
            last_problem = f"network error ({type(exc).__name__}: {redact(str(exc)) or 'no detail'})"
            continue
        if response.status_code >= 500 or response.status_code == 429:
            last_problem = f"HTTP {response.status_code} {response.reason_phrase}"
            continue
        return response
    raise FetchError(
        f"{target.name}: GET {shown_url} failed after {attempts} {'try' if attempts == 1 else 'tries'}: "
        f"{last_problem}; "
        "the server or the network is failing: try again later"
    )


def _fetch_one(
    client: httpx.Client,
    target: FetchTarget,
    inbox: Path,
    known: set[str],
    *,
    api_key: str | None,
    redact: _Redactor,
    now: Callable[[], datetime],
    **retry_options,
) -> FetchResult:
    url, shown_url = _request_urls(target, api_key, redact)
    if target.needs_api_key and not api_key:
        raise FetchError(f"{target.name}: GET {shown_url} needs an EasyData API key: set {API_KEY_VARIABLE}")
    last = _last_manifest_for(inbox, shown_url)
    conditions = _conditional_headers(last)
    fetched_at = _utc(now())
    logger.info("%s: GET %s%s", target.name, shown_url, " (conditional)" if conditions else "")
    response = _get_with_retries(client, target, url, shown_url, conditions, redact=redact, **retry_options)

    if response.status_code == 304 and conditions:
        logger.info("%s: not modified since %s", target.name, last["fetched_at"])
        return FetchResult(target.name, shown_url, "unchanged", None, str(last.get("sha256", "")), fetched_at)
    if response.status_code != 200:
        raise FetchError(
            f"{target.name}: GET {shown_url} answered HTTP {response.status_code} {response.reason_phrase}; "
            f"{_hint_for_status(target, response.status_code)}"
        )
    body = response.content
    if not body:
        raise FetchError(f"{target.name}: GET {shown_url} answered HTTP 200 with an empty body; try again later")
    if _looks_like_a_web_page(response):
        raise FetchError(
            f"{target.name}: GET {shown_url} answered a web page, not a data file (the file may have moved): "
            f"find it on SBP's economic-data pages and check {_url_variable(target)}"
        )

    sha256 = hashlib.sha256(body).hexdigest()
    if sha256 in known:
        logger.info("%s: already in the inbox (sha256 %s)", target.name, sha256[:12])
        return FetchResult(target.name, shown_url, "unchanged", None, sha256, fetched_at)

    path = _store(inbox, body, _stored_name(target, response, fetched_at, redact))
    _write_sidecar(path, _manifest(target, shown_url, response, fetched_at, sha256, path, redact))
    known.add(sha256)
    logger.info("%s: stored %s (%d bytes, sha256 %s)", target.name, path.name, len(body), sha256[:12])
    return FetchResult(target.name, shown_url, "downloaded", path, sha256, fetched_at)


def _store(inbox: Path, body: bytes, name: str) -> Path:
    temporary = _write_temporary(inbox, body, "download")
    try:
        return _publish(temporary, inbox, name)
    finally:
        temporary.unlink(missing_ok=True)


def _utc(moment: datetime) -> datetime:
    """Fetch times are UTC; a naive clock is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def fetch_releases(
    targets: Sequence[FetchTarget],
    inbox: Path,
    *,
    api_key: str | None = None,
    client: httpx.Client | None = None,
    attempts: int = 4,
    backoff_seconds: float = 2.0,
    timeout_seconds: float = 60.0,
    now: Callable[[], datetime] = _utc_now,
    sleep: Callable[[float], None] = time.sleep,
) -> list[FetchResult]:
    """Download every target into `inbox` unchanged, each with a sidecar manifest.

    Returns one result per target, in order: 'downloaded' (a new file and its sidecar were
    written) or 'unchanged' (a 304, or a body whose sha256 the inbox already holds; nothing
    written). `api_key` is sent only to targets with `needs_api_key`. A client passed in is used
    as is and left open; otherwise one is made and closed here.

    One failing target does not lose the others: every target is tried, and only then, if any
    failed, one FetchError is raised listing every failure; the successful downloads are already
    stored and are on the error's `results`.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    inbox = Path(inbox)
    inbox.mkdir(parents=True, exist_ok=True)
    redact = _Redactor(api_key)
    known = known_sha256s(inbox)
    own_client = client is None
    if own_client:
        client = httpx.Client(headers={"User-Agent": USER_AGENT}, timeout=timeout_seconds, follow_redirects=True)
    results: list[FetchResult] = []
    failures: list[FetchError] = []
    try:
        for target in targets:
            try:
                results.append(
                    _fetch_one(
                        client,
                        target,
                        inbox,
                        known,
                        api_key=api_key,
                        redact=redact,
                        now=now,
                        attempts=attempts,
                        backoff_seconds=backoff_seconds,
                        timeout_seconds=timeout_seconds,
                        sleep=sleep,
                    )
                )
            except FetchError as exc:
                failures.append(exc)
            except OSError as exc:  # the inbox is full or unwritable: this target is lost, not the rest
                failures.append(
                    FetchError(f"{target.name}: GET {redact(target.url)}: could not store it in {inbox}: {exc}")
                )
    finally:
        if own_client:
            client.close()
    if failures:
        raise _combined_error(failures, results, len(targets))
    return results


def _combined_error(failures: list[FetchError], results: list[FetchResult], total: int) -> FetchError:
    stored = sum(r.status == "downloaded" for r in results)
    kept = f"{stored} new file{'s' if stored > 1 else ''} stored" if stored else "nothing new was stored"
    lines = [f"{len(failures)} of {total} release downloads failed ({kept}):"]
    lines += [f"- {failure}" for failure in failures]
    return FetchError("\n".join(lines), failures=failures, results=results)
