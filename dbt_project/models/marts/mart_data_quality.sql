-- What stands behind the marts: releases and figures loaded, how many figures errata
-- touched, how many dates are estimated, how many loaded releases passed validation, and
-- what is quarantined now (files that could not be read, releases that failed validation).
with figures as (
    select * from {{ ref('int_figures__corrected') }}
),
releases as (
    select * from {{ ref('mart_releases') }}
),
rejected as (
    select * from {{ ref('stg_rejected_files') }}
)
select
    (select count(distinct release_id) from figures) as releases_loaded,
    (select count(*) from figures) as figures_loaded,
    (select count(*) from figures where erratum_id is not null) as figures_touched_by_errata,
    (select count(*) from figures where erratum_action = 'exclude') as figures_excluded_by_errata,
    (select count(*) from figures where erratum_action = 'swap') as figures_relabelled_by_errata,
    (select count(*) from {{ ref('errata') }}) as errata_defined,
    (select count(*) from figures where published_on_estimated) as figures_with_estimated_date,
    -- the loaded releases whose loaded version passed its latest validation
    (select count(*) from releases where validation_success) as releases_passing_validation,
    -- the releases quarantined now for failing validation (not the history of validations)
    (select count(distinct release_id) from rejected where release_id is not null) as releases_failing_validation,
    (select max(published_on) from figures) as latest_publication,
    (select max(loaded_at) from figures) as latest_load,
    -- quarantined now: files that could not be read and releases that failed validation
    (select count(distinct source_file) from rejected) as files_rejected,
    (select count(distinct release_id) from rejected where release_id is not null) as releases_rejected,
    (select string_agg(distinct source_file || ': ' || rule, '; ' order by source_file || ': ' || rule)
     from rejected) as rejected_files
