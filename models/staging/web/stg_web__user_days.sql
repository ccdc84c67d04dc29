with

source as (

    select * from {{ source('web', 'ltxstudio_agg_user_date') }}

),

renamed as (

    select
        {{ utc_date('dt', source('web', 'ltxstudio_agg_user_date')) }} as dt,
        cast(lt_id as {{ dbt.type_string() }}) as lt_id,
        cast(griffin_tier_name as {{ dbt.type_string() }}) as tier_name,
        cast(num_tokens_consumed as {{ dbt.type_bigint() }}) as tokens_consumed,
        cast(num_generate_image as {{ dbt.type_bigint() }}) as image_generations,
        cast(num_generate_video as {{ dbt.type_bigint() }}) as video_generations

    from source

)

select * from renamed
