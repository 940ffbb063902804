"""One partition per release (what one publisher put out on one day)."""

import dagster as dg

release_partitions = dg.DynamicPartitionsDefinition(name="release")
