"""Display names per language: ``label:`` on items, ``labels:`` for roads, sites, directions and
uncertain parameters; refused when wrong (one line naming the path); never a result changed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gatesim import i18n, load_scenario
from gatesim.output.writer import write_csv
from gatesim.scenario.labels import labels_of, title_of
from gatesim.scenario.uncertain import RangedFloat
from tests.test_bad_input import SMALL, SMALL_TEXT, assert_names, edit, refused

LABELLED_TEXT = SMALL_TEXT.replace(
    "clock:\n",
    "labels:\n"
    "  ql1a: {vi: Quốc lộ 1A, en: National road 1A}\n"
    "  export: {vi: Xuất khẩu, en: Export}\n"
    "  cn_road: {en: Chinese approach road}\n"
    "clock:\n", 1).replace(
    "  front: {slots: 12, overflow: ql1a}",
    '  front: {slots: 12, overflow: ql1a, label: {vi: "Bãi chờ xuất khẩu", en: "Export yard"}}'
).replace(
    "  documents:\n    servers: 2\n",
    "  documents:\n    label: {vi: Kiểm tra hồ sơ, en: Document check}\n    servers: 2\n").replace(
    "  main:\n    crossing_time:",
    "  main:\n    label: {vi: Lối thông quan chính}\n    crossing_time:").replace(
    "  gate_import:\n    clock_offset_h: 1",
    "  gate_import:\n    label: {vi: Giờ phía Trung Quốc, en: Chinese side hours}\n"
    "    clock_offset_h: 1").replace(
    "  export_fresh:\n    direction: export\n    cargo: fresh\n    rate_per_day: 40",
    "  export_fresh:\n    label: {vi: Hàng tươi xuất khẩu, en: Fresh exports}\n"
    "    direction: export\n    cargo: fresh\n    rate_per_day: 40").replace(
    "  import_general:\n    direction: import\n    cargo: general\n    steps:",
    "  import_general:\n    label: {vi: Hàng thường nhập khẩu, en: General imports}\n"
    "    direction: import\n    cargo: general\n    steps:")

RANGED = """\
name: ranged
clock: {start: 2024-01-01 00:00, horizon_days: 2}
roads: [road]
yards: {queue: {slots: {value: 20, low: 10, high: 30, name: queue_slots}}}
stages:
  server:
    servers: 1
    yard: queue
    service: {dist: exponential, mean: {value: 10, low: 8, high: 12}, unit: min}
arrivals: {a: {direction: import, cargo: general, site: gate, rate_per_day: 50}}
routes: {only: {direction: import, cargo: general, site: gate, steps: [{stage: server}]}}
labels:
  queue_slots: {vi: Số chỗ đỗ, en: Parking places}
  stages.server.service.mean: {vi: Thời gian phục vụ, en: Service time}
  gate: {vi: Cửa khẩu, en: Gate}
  road: {vi: Đường, en: Road}
"""


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def labelled(tmp_path):
    return write(tmp_path, LABELLED_TEXT, "small_gate.yaml")


def test_labels_are_accepted_and_labels_of_gives_what_was_written(labelled):
    s = load_scenario(labelled)
    assert s.yards["front"].label == {"vi": "Bãi chờ xuất khẩu", "en": "Export yard"}
    assert labels_of(s) == {
        "ql1a": {"vi": "Quốc lộ 1A", "en": "National road 1A"},
        "export": {"vi": "Xuất khẩu", "en": "Export"},
        "cn_road": {"en": "Chinese approach road"},
        "front": {"vi": "Bãi chờ xuất khẩu", "en": "Export yard"},
        "documents": {"vi": "Kiểm tra hồ sơ", "en": "Document check"},
        "main": {"vi": "Lối thông quan chính"},
        "gate_import": {"vi": "Giờ phía Trung Quốc", "en": "Chinese side hours"},
        "export_fresh": {"vi": "Hàng tươi xuất khẩu", "en": "Fresh exports"},
        "import_general": {"vi": "Hàng thường nhập khẩu", "en": "General imports"},
    }


def test_every_kind_of_item_takes_a_label(tmp_path):
    label = {"vi": "nhãn", "en": "label"}
    doc = yaml.safe_load(SMALL_TEXT)
    doc["cargo"] = {"fresh": {"label": label}, "general": {"label": label}}
    doc["factors"] = {"f": {"cv": 0.1, "label": label}}
    doc["stages"]["documents"]["servers_factor"] = "f"
    doc["stoppages"] = {"s": {"at": ["documents"], "rate_per_day": 0.1,
                              "duration": {"dist": "constant", "value": 1, "unit": "h"},
                              "label": label}}
    doc["acceptances"] = {"acc": {"capacity_per_hour": 5, "label": label}}
    doc["lanes"]["smart"]["export"] = {"yard": "staging", "acceptance": "acc"}
    doc["routes"]["export_fresh"]["label"] = label
    s = load_scenario(write(tmp_path, yaml.safe_dump(doc, allow_unicode=True)))
    got = labels_of(s)
    for name in ("fresh", "general", "f", "s", "acc", "export_fresh"):
        assert got[name] == label, name


def test_labels_of_a_scenario_without_any_is_empty():
    assert labels_of(load_scenario(SMALL)) == {}


@pytest.mark.parametrize("old, new, path, message", [
    ("  front: {slots: 12, overflow: ql1a}",
     "  front: {slots: 12, overflow: ql1a, label: {fr: Parc}}", "yards.front.label.fr",
     "a language code: en or vi"),
    ("  staging: {slots: 4}", "  staging: {slots: 4, label: {vi: '  '}}",
     "yards.staging.label.vi", "a non-empty display name"),
    ("  staging: {slots: 4}", "  staging: {slots: 4, label: {}}", "yards.staging.label",
     "at least 1"),
    ("  staging: {slots: 4}", "  staging: {slots: 4, label: {en: 12}}",
     "yards.staging.label.en", "string"),
    ("  staging: {slots: 4}", "  staging: {slots: 4, label: Staging}",
     "yards.staging.label", "dictionary"),
    ("  staging: {slots: 4}", "  staging: {slots: 4, label: {en: \"two\\nlines\"}}",
     "yards.staging.label.en", "one line"),
    ("  staging: {slots: 4}", "  staging: {slots: 4, lable: {en: Staging}}",
     "yards.staging.lable", "no such field"),
    ("roads: [ql1a, cn_road]", "roads: [ql1a, cn_road]\nlabels: {ql1b: {vi: QL1B}}",
     "labels.ql1b", "did you mean 'ql1a'"),
    ("roads: [ql1a, cn_road]", "roads: [ql1a, cn_road]\nlabels: {front: {vi: Bãi}}",
     "labels.front", "yards.front.label"),
    ("roads: [ql1a, cn_road]", "roads: [ql1a, cn_road]\nlabels: {ql1a: {cn: 公路}}",
     "labels.ql1a.cn", "a language code"),
])
def test_a_wrong_label_is_refused_in_one_line_naming_the_path(tmp_path, old, new, path,
                                                               message):
    err = refused(write(tmp_path, edit(SMALL_TEXT, old, new), "small_gate.yaml"))
    assert_names(err, "small_gate.yaml", path, message)
    assert err.path == path


def test_a_wrong_label_by_set_names_the_set():
    err = refused(SMALL, ["yards.front.label={de: Vorplatz}"])
    assert_names(err, "small_gate.yaml", "yards.front.label.de", "--set yards.front.label")
    err = refused(SMALL, ["labels.nowhere={vi: Không đâu}"])
    assert_names(err, "small_gate.yaml", "labels.nowhere", "--set labels.nowhere")


def test_set_and_extends_carry_labels(tmp_path, labelled):
    s = load_scenario(labelled, ["yards.front.label.en=Front yard",
                                 "stages.inspection.label={vi: Kiểm hóa, en: Inspection}"])
    assert s.yards["front"].label == {"vi": "Bãi chờ xuất khẩu", "en": "Front yard"}
    assert s.stages["inspection"].label == {"vi": "Kiểm hóa", "en": "Inspection"}
    variant = write(tmp_path, "extends: small_gate.yaml\nname: variant\n"
                    "yards: {front: {label: {en: Front}}}\n"
                    "labels: {import: {vi: Nhập khẩu, en: Import}}\n", "variant.yaml")
    v = load_scenario(variant)
    assert v.yards["front"].label == {"vi": "Bãi chờ xuất khẩu", "en": "Front"}
    assert labels_of(v)["import"] == {"vi": "Nhập khẩu", "en": "Import"}
    assert labels_of(v)["ql1a"] == {"vi": "Quốc lộ 1A", "en": "National road 1A"}


def test_uncertain_parameters_are_labelled_and_their_labels_go_when_a_set_fixes_them(
        tmp_path):
    path = write(tmp_path, RANGED)
    s = load_scenario(path)
    assert set(s.uncertain) == {"queue_slots", "stages.server.service.mean"}
    assert labels_of(s)["queue_slots"] == {"vi": "Số chỗ đỗ", "en": "Parking places"}
    fixed = load_scenario(path, ["yards.queue.slots=25"])
    assert "queue_slots" not in fixed.uncertain and "queue_slots" not in fixed.labels
    assert "stages.server.service.mean" in fixed.labels
    variant = write(tmp_path, "extends: s.yaml\nname: v\nyards: {queue: {slots: 30}}\n", "v.yaml")
    assert "queue_slots" not in load_scenario(variant).labels
    typo = RANGED.replace("  queue_slots: {vi", "  queue_slot: {vi")
    err = refused(write(tmp_path, typo, "typo.yaml"))
    assert_names(err, "typo.yaml", "labels.queue_slot", "did you mean 'queue_slots'")
    err = refused(path, ["yards.queue.slots=25", "labels.queue_slotz={vi: x}"])
    assert_names(err, "s.yaml", "labels.queue_slotz")


def test_the_recorded_scenario_with_labels_validates_again(tmp_path):
    """A run records its resolved scenario (labels included), which the report reads back."""
    from gatesim.scenario.loader import validate

    s = load_scenario(write(tmp_path, RANGED), ["yards.queue.slots=25"])
    again = validate(s.model_dump(mode="json", by_alias=True), "summary.json")
    assert again == s


def test_ranges_ignore_label_text(tmp_path):
    """Label text is never a range (a range is numbers only) and never a parameter."""
    text = RANGED.replace("  gate: {vi: Cửa khẩu, en: Gate}",
                          "  gate: {vi: '1', en: '2'}")
    s = load_scenario(write(tmp_path, text))
    assert set(s.uncertain) == {"queue_slots", "stages.server.service.mean"}
    assert not isinstance(s.labels["gate"]["vi"], RangedFloat)
    assert all(not p.startswith("labels") for par in s.uncertain.values() for p in par.paths)


def test_labels_change_no_result(tmp_path, labelled):
    """The same scenario with and without labels: byte-identical summary.csv."""
    from gatesim import run

    out = {}
    for name, path in (("plain", SMALL), ("labelled", labelled)):
        result = run(load_scenario(path, ["clock.horizon_days=2"]), replications=1, seed=7,
                     records="none")
        write_csv(result.summary, tmp_path / f"{name}.csv")
        out[name] = (tmp_path / f"{name}.csv").read_bytes()
    assert out["plain"] == out["labelled"]
    assert len(out["plain"]) > 100


def test_display_falls_back_from_vi_to_en_to_the_code_name(labelled):
    labels = labels_of(load_scenario(labelled))
    with i18n.using("vi"):
        assert i18n.display("front", labels) == "Bãi chờ xuất khẩu"
        assert i18n.display("cn_road", labels) == "Chinese approach road"  # no vi: en
        assert i18n.display("staging", labels) == "staging"  # no label: the code name
    with i18n.using("en"):
        assert i18n.display("front", labels) == "Export yard"
        assert i18n.display("main", labels) == "main"  # only vi: the code name in English
    assert i18n.display("front") == "front"


def test_a_scenario_has_its_own_title_and_a_variant_never_inherits_it(tmp_path, labelled):
    """A variant is another scenario: titled by its own label, else its name — never by its
    base's label (a smart-gate variant headed "Hữu Nghị today" would mislabel the answer)."""
    base = write(tmp_path, labelled.read_text(encoding="utf-8").replace(
        "name: small_gate", "name: small_gate\nlabel: {vi: Cửa khẩu nhỏ, en: Small gate}"),
        "small_gate.yaml")
    s = load_scenario(base)
    with i18n.using("vi"):
        assert title_of(s) == "Cửa khẩu nhỏ"
    assert title_of(s) == "Small gate"
    variant = load_scenario(write(tmp_path, "extends: small_gate.yaml\nname: variant\n",
                                  "variant.yaml"))
    assert variant.label is None and title_of(variant) == "variant"
