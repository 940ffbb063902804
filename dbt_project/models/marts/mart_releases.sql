-- One row per loaded release: who published it and when, the file it came from, how many
-- figures it holds and for which months, and the latest Great Expectations validation of the
-- version that is loaded. A release whose newer version is quarantined now (stg_rejected_files)
-- keeps its previous good version here, flagged has_rejected_version.
with figures as (
    select * from {{ ref('stg_release_figures') }}
),
releases as (
    select
        release_id,
        any_value(publisher) as publisher,
        cast(min(published_on) as date) as published_on,
        bool_or(published_on_estimated) as published_on_estimated,
        any_value(published_on_source) as published_on_source,
        any_value(source_file) as source_file,
        any_value(source_format) as source_format,
        any_value(release_sha256) as release_sha256,
        count(*) as figures,
        count(distinct series_code) as series,
        min(period_month) as first_period_month,
        max(period_month) as last_period_month,
        max(loaded_at) as loaded_at
    from figures
    group by release_id
),
validations as (
    select *
    from {{ ref('stg_release_validations') }}
    qualify row_number() over (partition by release_id, release_sha256 order by validated_at desc) = 1
)
select
    r.release_id,
    r.publisher,
    r.published_on,
    r.published_on_estimated,
    r.published_on_source,
    r.source_file,
    r.source_format,
    r.figures,
    r.series,
    r.first_period_month,
    r.last_period_month,
    r.release_sha256,
    r.loaded_at,
    v.suite_name as validation_suite,
    v.success as validation_success,
    v.evaluated_expectations,
    v.failed_expectations,
    v.validated_at,
    exists (
        select 1 from {{ ref('stg_rejected_files') }} q where q.release_id = r.release_id
    ) as has_rejected_version
from releases r
left join validations v
    on v.release_id = r.release_id and v.release_sha256 = r.release_sha256
