"""Shared by the end-to-end tests: reading a warehouse (the one the environment names now: the
session's, or a test's own copy; see tests/conftest.py) and the ingest alone."""

from states import marts_fingerprint, query

__all__ = ["ingest", "marts_fingerprint", "query"]


def ingest(release_ids: list[str], *, force: bool = False):
    """What `itx build` runs before dbt, in this process: the raw asset materialized through
    Dagster on these releases' partitions (registered as the build registers them), with the
    resources of the paths the environment names now. It writes the warehouse's staging copy
    (ItxState.staging) and publishes nothing; no dbt. Returns Dagster's result."""
    import dagster as dg

    from orchestration.cli import PARTITION_RANGE_END, PARTITION_RANGE_START
    from orchestration.defs.partitions import register_releases, release_partitions
    from orchestration.defs.raw import raw_releases
    from orchestration.defs.resources import build_resources
    from orchestration.settings import get_settings

    resources = build_resources(get_settings())
    with dg.DagsterInstance.get() as instance:
        register_releases(instance, release_ids)
        keys = instance.get_dynamic_partitions(release_partitions.name)
        positions = sorted(keys.index(rid) for rid in release_ids)
        assert [keys[p] for p in range(positions[0], positions[-1] + 1)] == sorted(release_ids, key=keys.index)
        return dg.materialize(
            [raw_releases],
            instance=instance,
            resources={name: resources[name] for name in ("warehouse", "release_files")},
            tags={PARTITION_RANGE_START: keys[positions[0]], PARTITION_RANGE_END: keys[positions[-1]]},
            run_config={"ops": {"raw_releases": {"config": {"force": force}}}},
            raise_on_error=False,
        )
