{#- Two-sided p-value P(|T| >= |t|) of Student's t with `df` degrees of freedom
    (an integer expression, 1 .. max_df; null outside), in SQL by the closed
    form for integer d.f. (Abramowitz & Stegun 26.7.3 / 26.7.4), so it runs on
    every engine (BigQuery has no t-CDF). With theta = atan(|t| / sqrt(df)),
    s = sin(theta), c = cos(theta), A = P(|T| < |t|):
      df odd:  A = 2/pi x (theta + s x c x sum_{k=0}^{(df-3)/2} b_k c^{2k}),
               b_0 = 1, b_k = b_{k-1} x 2k / (2k + 1)   (df = 1: A = 2 theta / pi);
      df even: A = s x sum_{k=0}^{(df-2)/2} a_k c^{2k},
               a_0 = 1, a_k = a_{k-1} x (2k - 1) / (2k).
    The coefficients are computed here at compile time; the SQL is one sum of
    at most max_df / 2 terms per parity. Checked against an independent
    numerical integration in tests/python/test_student_t_p_value.py.
    Used by the posting policy (int_alerts__loudness). -#}
{% macro student_t_p_value(t, df, max_df) -%}
{%- set n_terms = ((max_df | int) // 2) + 1 -%}
{%- set odd = [] -%}{%- set even = [] -%}
{%- set b = namespace(v=1.0) -%}{%- set a = namespace(v=1.0) -%}
{%- for k in range(n_terms) -%}
    {%- if k > 0 -%}
        {%- set b.v = b.v * (2 * k) / (2 * k + 1) -%}
        {%- set a.v = a.v * (2 * k - 1) / (2 * k) -%}
    {%- endif -%}
    {%- do odd.append(b.v) -%}{%- do even.append(a.v) -%}
{%- endfor -%}
{%- set theta = 'atan(abs(' ~ t ~ ') / sqrt(' ~ df ~ '))' -%}
case
    when {{ df }} >= 1 and {{ df }} <= {{ max_df | int }} and {{ t }} is not null then greatest(0, 1 - (
        case
            when mod({{ df }}, 2) = 1 then 2 / acos(-1) * (
                {{ theta }} + sin({{ theta }}) * cos({{ theta }}) * (0
                {%- for k in range(n_terms) %}
                + case when {{ k }} <= ({{ df }} - 3) / 2 then {{ odd[k] }} * power(cos({{ theta }}), {{ 2 * k }}) else 0 end
                {%- endfor %}
                )
            )
            else sin({{ theta }}) * (0
            {%- for k in range(n_terms) %}
            + case when {{ k }} <= ({{ df }} - 2) / 2 then {{ even[k] }} * power(cos({{ theta }}), {{ 2 * k }}) else 0 end
            {%- endfor %}
            )
        end
    ))
end
{%- endmacro %}
