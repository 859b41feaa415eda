from sim.doctables import DOCS, generated


def test_generated_docs_are_up_to_date():
    for name, text in generated().items():
        committed = (DOCS / name).read_text(encoding="utf-8")
        assert committed == text, f"docs/{name} is stale: run python -m sim.doctables"


def test_every_parameter_is_documented():
    text = generated()["parameters.md"]
    assert "`beta_distance` | 0.26" in text
    assert "`settlement_ease` | 落户通道" in text
