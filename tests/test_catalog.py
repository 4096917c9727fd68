"""The vendor catalogue's resolution rules, in the one place every consumer (app, API, worker) takes them from."""

from types import SimpleNamespace as Item

from switchboard.pipeline.catalog import CATALOG, merge_config, order_by_priority


def test_priority_descending_then_name_ignoring_case() -> None:
    items = [Item(name="Beta", priority=50, is_enabled=True), Item(name="alpha", priority=50, is_enabled=True),
             Item(name="zeta", priority=100, is_enabled=True), Item(name="Aardvark", priority=100, is_enabled=False)]
    assert [i.name for i in order_by_priority(items)] == ["zeta", "alpha", "Beta"]


def test_merge_is_shallow_and_later_wins() -> None:
    assert merge_config({"model": "a", "t": 0.7, "n": {"x": 1}}, {"t": 0.9, "n": {"y": 2}}, {"api_key": "k"}) == \
        {"model": "a", "t": 0.9, "n": {"y": 2}, "api_key": "k"}


def test_every_default_config_satisfies_its_own_schema() -> None:
    import jsonschema

    for entry in CATALOG:
        jsonschema.validate(entry.default_config, entry.config_schema)
