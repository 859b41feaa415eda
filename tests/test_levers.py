from sim.levers import CATALOGUE, LEVERS, default_policy


def test_catalogue_is_consistent():
    assert len(LEVERS) == len(CATALOGUE)
    for lever in CATALOGUE:
        assert lever.low <= lever.default <= lever.high, lever.id
        assert lever.name_zh and lever.name_en and lever.clause.startswith("(")
        assert lever.mechanism
    clauses = {lv.clause for lv in CATALOGUE}
    for clause in (
        "(十四)",
        "(十六)",
        "(七)",
        "(十一)",
        "(十三)",
        "(十七)",
        "(十八)",
        "(十九)",
        "(十)",
    ):
        assert any(clause in c for c in clauses), clause


def test_default_policy_has_every_lever_per_county():
    policy = default_policy()
    for lever in CATALOGUE:
        assert getattr(policy, lever.id).shape == (5,)


def test_every_lever_is_sized_by_evidence(region):
    """Each lever has evidence rows; a row's interval holds the value the model uses."""
    rows = region.lever_evidence
    assert {e.lever for e in rows} == set(LEVERS)
    for e in rows:
        central = LEVERS[e.lever].default if e.parameter == "default" else e.central
        assert e.low <= central <= e.high, (e.lever, e.parameter)
        if e.parameter != "default" and e.parameter in region.parameters:
            assert central == region.parameters[e.parameter].value
        assert e.source and e.design
