"""inbox/sbp_release_files: download SBP's current files into the release inbox (the targets and
the EasyData key from the `fetch` resource, the inbox from `release_files`, the one the inbox
sensor watches)."""

import dagster as dg

from orchestration.defs.resources import FetchResource, ReleaseFilesResource

SBP_FILES_KEY = dg.AssetKey(["inbox", "sbp_release_files"])


@dg.asset(
    key=SBP_FILES_KEY,
    group_name="fetch",
    kinds={"python"},
    description=(
        "SBP's current release files (EBOPS workbook, BPM6 summary, EasyData) downloaded unchanged into the "
        "inbox with a manifest each (URL, fetched-at, headers, sha256); a file already held is skipped. The "
        "inbox sensor turns each new file into a release."
    ),
)
def sbp_release_files(context: dg.AssetExecutionContext, release_files: ReleaseFilesResource, fetch: FetchResource):
    from orchestration.lib.fetch import FetchError, fetch_releases

    targets = fetch.fetch_targets()
    if not targets:
        return dg.MaterializeResult(metadata={"targets": 0, "note": "no URL configured (ITX_FETCH_*_URL)"})
    try:
        results = fetch_releases(
            targets, release_files.path("inbox"), api_key=fetch.easydata_api_key or None, attempts=fetch.attempts
        )
    except FetchError as exc:
        raise dg.Failure(description=str(exc)) from exc
    downloaded = [r for r in results if r.status == "downloaded"]
    for r in results:
        context.log.info(f"{r.target}: {r.status} {r.url} sha256={r.sha256[:12]}")
    return dg.MaterializeResult(
        metadata={
            "targets": len(targets),
            "downloaded": len(downloaded),
            "unchanged": len(results) - len(downloaded),
            "files": [str(r.path.name) for r in downloaded if r.path],
        }
    )


fetch_job = dg.define_asset_job(
    name="fetch_job",
    selection=dg.AssetSelection.assets(SBP_FILES_KEY),
    description="Download SBP's current release files into the inbox.",
)
