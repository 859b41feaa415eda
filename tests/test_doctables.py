import pytest

from sim.doctables import DOCS, generated


@pytest.fixture(scope="module")
def docs():
    """The generated documents, once per module (they re-run the replications)."""
    return generated()


def test_generated_docs_are_up_to_date(docs):
    for name, text in docs.items():
        committed = (DOCS / name).read_text(encoding="utf-8")
        assert committed == text, f"docs/{name} is stale: run python -m sim.doctables"


def test_every_parameter_is_documented(docs):
    text = docs["parameters.md"]
    assert "`beta_distance` | 0.26" in text
    levers = docs["levers.md"]
    assert "[`settlement_ease`](#settlement_ease) | 落户通道" in levers
    assert "Tested effect: a higher value raises `citizenisation`" in levers
    assert "`hukou_services` (each county: 0.95 → 1 from 2024)" in levers
    # Money levers are amounts per county, and every lever says who pays for it.
    assert "| rural roads | (十八) | extra yuan per year per county |" in levers
    assert levers.count("- County budget in a run: ") == levers.count("\n## ")
    scenarios = docs["scenarios.md"]
    assert "## `decision_package`: The decision implemented as written" in scenarios
    assert (
        "| (十六) | `land_transfer_friction` 土地流转交易成本 | each county: 0.5 → 0.2 (linear "
        "2024–2027) |" in (scenarios)
    )
