-- What is quarantined now: a file that could not be read (release_id null), or a release that
-- failed Great Expectations and was not loaded. raw.rejected_files is rewritten by every ingest.
select
    source_file,
    release_id,
    release_id is null as is_unreadable_file,
    rule,
    detail,
    rejected_at,
    release_sha256
from {{ source('raw', 'rejected_files') }}
