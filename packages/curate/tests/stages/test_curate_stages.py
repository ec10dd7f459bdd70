"""The first-party stages as registered: each declares typed, documented options."""

from __future__ import annotations


def test_every_first_party_stage_declares_documented_options() -> None:
    from codekiln_core.stages import ConfiguredStage
    from codekiln_curate.stages import FIRST_PARTY_STAGES

    for name, cls, _ in FIRST_PARTY_STAGES:
        assert isinstance(cls, ConfiguredStage), name
        for key, field in cls.options_model.model_fields.items():
            assert field.description, f"{name}: option {key} has no description"
