"""One partition per release (what one publisher put out on one day)."""

import dagster as dg

release_partitions = dg.DynamicPartitionsDefinition(name="release")


def register_releases(instance: dg.DagsterInstance, release_ids) -> list[str]:
    """Add a partition for each release the instance does not know yet; returns those added.

    Safe when two processes register at once: the instance's table has a unique key, so a
    partition another process added in between is simply skipped.
    """
    existing = set(instance.get_dynamic_partitions(release_partitions.name))
    new = [rid for rid in release_ids if rid not in existing]
    if not new:
        return []
    try:
        instance.add_dynamic_partitions(release_partitions.name, new)
    except Exception as exc:  # noqa: BLE001 -- sqlite3/sqlalchemy IntegrityError, depending on storage
        if "unique" not in str(exc).lower() and "integrity" not in type(exc).__name__.lower():
            raise
        existing = set(instance.get_dynamic_partitions(release_partitions.name))
        new = [rid for rid in new if rid not in existing]
        for rid in new:
            try:
                instance.add_dynamic_partitions(release_partitions.name, [rid])
            except Exception as again:  # noqa: BLE001
                if "unique" not in str(again).lower():
                    raise
    return new


def retire_releases(instance: dg.DagsterInstance, keep) -> list[str]:
    """Delete the partitions of releases no file holds any more; returns those deleted."""
    keep = set(keep)
    gone = [rid for rid in instance.get_dynamic_partitions(release_partitions.name) if rid not in keep]
    for rid in gone:
        instance.delete_dynamic_partition(release_partitions.name, rid)
    return gone
