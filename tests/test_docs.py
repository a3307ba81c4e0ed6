"""The documentation: the configuration reference is generated and current, and every
relative link in the README, CONTRIBUTING and docs/ resolves inside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from songscape.config import AudioConfig
from songscape.config_reference import (
    UndocumentedSetting,
    model_parameters_markdown,
    reference_markdown,
    section_table,
)

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def test_the_configuration_reference_is_current() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert page == reference_markdown(), (
        "docs/configuration.md is stale: .venv/bin/python -m songscape.config_reference > docs/configuration.md")


def test_the_model_parameters_in_models_md_are_current() -> None:
    page = (ROOT / "docs" / "models.md").read_text(encoding="utf-8")
    assert model_parameters_markdown() in page, (
        "docs/models.md: the parameter table is stale; paste songscape.config_reference.model_parameters_markdown()")


def test_a_setting_without_a_description_fails_the_reference() -> None:
    class WithNewKey(AudioConfig):
        new_key: int = 1

    with pytest.raises(UndocumentedSetting, match="WithNewKey.new_key has no description"):
        section_table(WithNewKey)


def markdown_pages() -> list[Path]:
    return [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md"))]


@pytest.mark.parametrize("page", markdown_pages(), ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_resolves_inside_the_repository(page: Path) -> None:
    broken = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue  # a web address or an anchor on the same page
        path = (page.parent / target.split("#")[0]).resolve()
        if not path.is_relative_to(ROOT) or not path.exists():
            broken.append(target)
    assert not broken, f"{page.name}: links that do not resolve inside the repository: {broken}"
