"""One partition per release (what one publisher put out on one day)."""

import dagster as dg

release_partitions = dg.DynamicPartitionsDefinition(name="release")


def register_releases(instance: dg.DagsterInstance, release_ids) -> list[str]:
    """Add a partition for each release the instance does not know yet; returns those added."""
    existing = set(instance.get_dynamic_partitions(release_partitions.name))
    new = [rid for rid in release_ids if rid not in existing]
    if new:
        instance.add_dynamic_partitions(release_partitions.name, new)
    return new
