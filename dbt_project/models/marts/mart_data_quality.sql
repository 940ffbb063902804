-- What stands behind the marts: releases and figures loaded, how many figures errata
-- touched, how many dates are estimated, and the latest validation of each release.
with figures as (
    select * from {{ ref('int_figures__corrected') }}
),
validations as (
    select * from {{ ref('stg_validation_results') }}
)
select
    (select count(distinct release_id) from figures) as releases_loaded,
    (select count(*) from figures) as figures_loaded,
    (select count(*) from figures where erratum_id is not null) as figures_touched_by_errata,
    (select count(*) from figures where erratum_action = 'exclude') as figures_excluded_by_errata,
    (select count(*) from figures where erratum_action = 'swap') as figures_relabelled_by_errata,
    (select count(*) from {{ ref('errata') }}) as errata_defined,
    (select count(*) from figures where published_on_estimated) as figures_with_estimated_date,
    (select count(*) from validations where success) as releases_passing_validation,
    (select count(*) from validations where not success) as releases_failing_validation,
    (select max(published_on) from figures) as latest_publication,
    (select max(loaded_at) from figures) as latest_load
