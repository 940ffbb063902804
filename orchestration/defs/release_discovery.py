"""What the sensor and the schedule share: finding releases that are new or changed."""

import dagster as dg

from orchestration.defs.partitions import register_releases
from orchestration.lib import record
from orchestration.settings import get_settings


def scan_releases() -> tuple[dict[str, str], list[str]]:
    """{release_id: content sha256} of every readable release file, and one error per bad file."""
    settings = get_settings()
    found: dict[str, str] = {}
    errors: list[str] = []
    for path, bundled in record.release_files(settings.releases_dir, settings.inbox):
        try:
            for release in record.read_release_file(path, bundled=bundled):
                found[release.release_id] = release.release_sha256
        except (record.ReleaseFileError, OSError) as exc:
            errors.append(str(exc))
    return found, errors


def release_run_requests(instance: dg.DagsterInstance, found: dict[str, str], known: dict[str, str]):
    """Add partitions for new releases; one ingest run per new or changed release."""
    register_releases(instance, found)
    return [
        dg.RunRequest(partition_key=rid, run_key=f"{rid}:{sha}", tags={"itx/trigger": "new release file"})
        for rid, sha in found.items()
        if known.get(rid) != sha
    ]
