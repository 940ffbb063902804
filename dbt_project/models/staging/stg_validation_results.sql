select
    release_id,
    validated_at,
    suite_name,
    success,
    evaluated_expectations,
    failed_expectations,
    failures_json,
    source_file
from {{ source('raw', 'validation_results') }}
qualify row_number() over (partition by release_id order by validated_at desc) = 1
