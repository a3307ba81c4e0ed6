"""``docs/configuration.md``, generated from the settings models so that it cannot drift:
every key of the YAML config with its type, default and description, and what each preset
runs. A settings field without a description is an error here (and so in the tests). Also the
table of every model's parameters and defaults in ``docs/models.md`` (`model_parameters_markdown`).

    .venv/bin/python -m songscape.config_reference > docs/configuration.md
"""

from __future__ import annotations

import json
import types
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from songscape.config import (
    PRESETS,
    AudioConfig,
    ClustererSpec,
    DistributedConfig,
    LyricsConfig,
    RepresentationSpec,
    RunConfig,
)
from songscape.models import REPRESENTATIONS

SECTIONS: list[tuple[str, type[BaseModel]]] = [
    ("Top level", RunConfig), ("`audio:`", AudioConfig), ("`lyrics:`", LyricsConfig),
    ("`distributed:`", DistributedConfig), ("`representations:` (a list; each item)", RepresentationSpec),
    ("`clusterers:` (a list; each item)", ClustererSpec)]

HEADER = """# Configuration reference

Generated from the settings models in `src/songscape/config.py` by
`python -m songscape.config_reference > docs/configuration.md`; a test fails when this page is
stale. Give a config with `songscape run --config run.yaml`; every run writes the config it
used to `songscape-runs/<name>/config.yaml`, a good starting point. A misspelt key is an error
that names the nearest valid one. A `preset:` key fills in whatever the file leaves out.
Model parameters (`params:` of a representation) are listed in [models.md](models.md).
"""


class UndocumentedSetting(ValueError):
    """A settings field has no description."""


def type_name(annotation: Any) -> str:
    """A short, readable type: ``int``, ``centre | start``, ``list of int``, ``float or null``."""
    origin, arguments = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return " \\| ".join(f"`{value}`" for value in arguments)
    if origin in (Union, types.UnionType):
        named = [type_name(argument) for argument in arguments if argument is not type(None)]
        return " or ".join(named) + (" or null" if type(None) in arguments else "")
    if origin is list:
        return f"list of {type_name(arguments[0])}"
    if origin is dict:
        return "mapping"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "section"
    return getattr(annotation, "__name__", str(annotation))


def default_text(field: FieldInfo) -> str:
    """The default as YAML-ish text, or *required*."""
    if field.default_factory is not None:
        value = field.default_factory()
    elif field.default is PydanticUndefined:
        return "*required*"
    else:
        value = field.default
    if isinstance(value, BaseModel):
        return "see below"
    return f"`{json.dumps(value, default=str, ensure_ascii=False)}`"


def section_table(model: type[BaseModel]) -> str:
    """One Markdown table: key, type, default, description."""
    rows = ["| key | type | default | description |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        if not field.description:
            raise UndocumentedSetting(f"{model.__name__}.{name} has no description: give its Field a "
                                      "description, then regenerate docs/configuration.md")
        description = field.description.replace("|", "\\|")
        rows.append(f"| `{name}` | {type_name(field.annotation)} | {default_text(field)} | {description} |")
    return "\n".join(rows)


def presets_section() -> str:
    """What each preset runs, from the presets themselves."""
    lines = ["## Presets", ""]
    for name, build in PRESETS.items():
        data = build()
        representations = ", ".join(f"`{spec['name']}` ({spec['kind']} on {spec.get('input', 'audio')})"
                                    for spec in data["representations"])
        clusterers = ", ".join(f"`{spec['name']}`" for spec in data["clusterers"])
        lines.append(f"- **{name}**: {representations}; clustered by {clusterers}.")
    return "\n".join(lines)


def reference_markdown() -> str:
    """The whole page."""
    parts = [HEADER]
    for title, model in SECTIONS:
        parts += [f"## {title}", "", (model.__doc__ or "").strip().split("\n\n")[0].replace("\n", " "), "",
                  section_table(model), ""]
    parts.append(presets_section())
    return "\n".join(parts) + "\n"


def model_parameters_markdown() -> str:
    """The table of ``params:`` per ``kind`` with their defaults (in docs/models.md)."""
    rows = ["| `kind` | `params` and their defaults |", "|---|---|"]
    for kind, cls in REPRESENTATIONS.items():
        listed = ", ".join(f"`{name}: {json.dumps(value)}`" for name, value in cls().get_params().items())
        rows.append(f"| `{kind}` | {listed} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(reference_markdown(), end="")
