"""docs/scenario-format.md lists each segment's attributes as ``sim.scenario.attribute_doc``
generates them from the baseline: the document cannot go stale without this test failing.

To regenerate the table: ``REGENERATE_DOCS=1 python -m pytest tests/unit/test_attribute_doc.py``."""

from __future__ import annotations

import os

import pytest
from builders import BASELINE, ROOT

import sim
from sim.scenario.attribute_doc import BEGIN, END, attributes_table, replace_section, section_of

DOC = ROOT / "docs" / "scenario-format.md"
REGENERATE = "REGENERATE_DOCS=1 python -m pytest tests/unit/test_attribute_doc.py"


def test_the_documented_attributes_are_those_of_the_baseline():
    table = attributes_table(sim.load_scenario(BASELINE))
    text = DOC.read_text(encoding="utf-8")
    if os.environ.get("REGENERATE_DOCS"):
        text = replace_section(text, table)
        DOC.write_text(text, encoding="utf-8")
    assert section_of(text) == table, f"docs/scenario-format.md is stale: run {REGENERATE} to regenerate"


def test_the_table_names_who_draws_each_attribute_and_its_values():
    rows = attributes_table(sim.load_scenario(BASELINE)).splitlines()
    assert (
        "| `lv_smb` | `kva` | stream `lv_nonresidential` | a number: lognormal (median 45, sigma 0.95) |"
        in rows
    )
    assert "| `hv_single` | `voltage_kv` | the segment | always `10` |" in rows
    assert (
        "| `lv_smb` | `route_approval` | the segment | `true` / `false` (p = 0.3, only when "
        "`external_works: true`) |"
    ) in rows
    segment_row = rows[2]
    assert segment_row.startswith("| every segment | `segment` | the case's segment | one of `lv_resident`, ")


def test_a_section_is_replaced_between_its_markers_only():
    document = f"before\n{BEGIN}\nold\n{END}\nafter\n"
    assert replace_section(document, "new") == f"before\n{BEGIN}\nnew\n{END}\nafter\n"
    assert section_of(replace_section(document, "new")) == "new"
    with pytest.raises(ValueError, match="no section between"):
        replace_section("no markers", "new")
