-- Every Great Expectations validation of every version of a release (a release is validated
-- again when its file or the rules change): one row per validation. stg_validation_results
-- keeps the latest of each release_id; this keeps them all, so that the validation of the
-- version actually loaded can be found (release_sha256) when a newer version was rejected.
select
    release_id,
    release_sha256,
    validated_at,
    suite_name,
    success,
    evaluated_expectations,
    failed_expectations,
    source_file
from {{ source('raw', 'validation_results') }}
