"""bigquery_ci.contract_check: an emulator table against its contract (the emulator cannot enforce it)."""

from __future__ import annotations

from bigquery_ci.contract_check import problems


def manifest(enforced: bool = True) -> dict:
    columns = {"alert_id": {"data_type": "string"}, "z_score": {"data_type": "float64"}, "n": {"data_type": "int64"}}
    node = {
        "resource_type": "model",
        "name": "fct_x",
        "schema": "ds_marts",
        "alias": "fct_x",
        "config": {"contract": {"enforced": enforced}},
        "columns": columns,
    }
    return {"nodes": {"model.p.fct_x": node}}


def test_legacy_type_names_match_the_contract() -> None:
    found, checked = problems(
        manifest(), lambda t: [("alert_id", "STRING"), ("z_score", "FLOAT"), ("n", "INTEGER")], "p"
    )
    assert found == [] and len(checked) == 1


def test_another_type_order_or_column_is_reported() -> None:
    wrong_type = [("alert_id", "STRING"), ("z_score", "STRING"), ("n", "INTEGER")]
    assert "fct_x" in problems(manifest(), lambda t: wrong_type, "p")[0][0]
    reordered = [("z_score", "FLOAT"), ("alert_id", "STRING"), ("n", "INTEGER")]
    assert "another order" in problems(manifest(), lambda t: reordered, "p")[0][0]
    extra = [("alert_id", "STRING"), ("z_score", "FLOAT"), ("n", "INTEGER"), ("x", "DATE")]
    assert "('x', 'DATE')" in problems(manifest(), lambda t: extra, "p")[0][0]


def test_missing_table_and_no_contract_fail() -> None:
    tables: list[str] = []
    found, _ = problems(manifest(), lambda t: tables.append(t) or None, "p")
    assert tables == ["p.ds_marts.fct_x"] and "not found" in found[0]
    assert "nothing was checked" in problems(manifest(enforced=False), lambda t: [], "p")[0][0]
