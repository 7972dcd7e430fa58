"""The KPI file: shipped defaults for Goals 5, 6 and 7, a deployment's own file instead, and clear refusals of a wrong one."""

from __future__ import annotations

from pathlib import Path

import pytest

from caliber.reports.kpis import KPI_SETS, MEASURES, KpiFileError, load_kpi_file, load_roadmap, shipped_kpi_file


def test_the_shipped_kpis_cover_goals_5_6_and_7(tmp_path: Path) -> None:
    roadmap = load_roadmap(tmp_path)
    assert roadmap.source == shipped_kpi_file()
    assert [goal.number for goal in roadmap.goals] == [5, 6, 7]
    assert all(roadmap.of_goal(number) for number in (5, 6, 7))
    assert {kpi.target for kpi in roadmap.kpis} == {"annual", "clear", "none"}


@pytest.mark.parametrize("kpi_set", list(KPI_SETS))
def test_both_shipped_kpi_sets_load_name_themselves_and_carry_the_tracing_kpi(kpi_set: str) -> None:
    roadmap = load_kpi_file(shipped_kpi_file(kpi_set))
    assert roadmap.name == f"Roadmap {kpi_set}"
    assert {5, 6, 7} <= {goal.number for goal in roadmap.goals}
    traced = [kpi for kpi in roadmap.kpis if kpi.measure == "traced_share"]
    assert len(traced) == 1
    assert "SDG 16.4.2" in traced[0].name
    assert (traced[0].unit, traced[0].part, MEASURES["traced_share"].additive) == ("%", "tracing", False)


def test_the_default_stays_the_current_set_and_an_unknown_set_is_refused(tmp_path: Path) -> None:
    assert load_roadmap(tmp_path).name == "Roadmap 2018-2024"
    with pytest.raises(KpiFileError, match="Caliber ships 2018-2024, 2025-2030"):
        shipped_kpi_file("2031-2035")


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ('key = "9.1"\ngoal = 6\nname = "x"\nmeasure = "weapons"', "measure must be one of"),
        ('key = "9.1"\ngoal = 4\nname = "x"\nmeasure = "destroyed"', "goal 4 is not among"),
        ('key = "9.1"\ngoal = 6\nname = "x"\nmeasure = "surplus_end"\ntarget = "annual"', "needs a measure that adds up"),
        ('key = "9 1"\ngoal = 6\nname = "x"\nmeasure = "destroyed"', "its key may hold only"),
        ('key = "9.1"\ngoal = 6\nmeasure = "destroyed"', "needs name = a str"),
        ('key = "9.1"\ngoal = 6\nname = "x"\nmeasure = "destroyed"\nperiod = "month"', "period must be one of"),
    ],
)
def test_a_wrong_kpi_file_is_refused_naming_the_entry(tmp_path: Path, entry: str, complaint: str) -> None:
    (tmp_path / "kpis.toml").write_text(f'[[goal]]\nnumber = 6\nname = "Destruction"\n\n[[kpi]]\n{entry}\n', encoding="utf-8")
    with pytest.raises(KpiFileError, match=complaint):
        load_roadmap(tmp_path)


def test_the_data_dir_file_replaces_the_defaults(tmp_path: Path) -> None:
    text = (
        '[[goal]]\nnumber = 6\nname = "Destruction"\n\n'
        '[[kpi]]\nkey = "D1"\ngoal = 6\nname = "Pistols and rifles destroyed"\nmeasure = "destroyed"\ntarget = "annual"\n'
    )
    (tmp_path / "kpis.toml").write_text(text, encoding="utf-8")
    roadmap = load_roadmap(tmp_path)
    assert [kpi.key for kpi in roadmap.kpis] == ["D1"]
    kpi = roadmap.kpi("D1")
    assert kpi is not None
    assert kpi.unit == "weapons"
