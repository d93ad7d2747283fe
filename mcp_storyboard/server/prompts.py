"""MCP prompts from Markdown files: YAML front matter (name, title, description, arguments) and a template body.

The body is a ``str.format`` template whose only fields are the declared arguments (``{project_id}``); literal
braces are doubled (``{{``). Templates are checked when loaded, so a typo fails at start-up, not in a client.
Argument values are data: ``format_map`` inserts them verbatim and never parses them, so braces or
``{other_argument}`` inside a value stay literal text.

The files live in the top-level ``prompts/`` folder of a source checkout and ship in the wheel as the resource
package ``mcp_storyboard._prompts`` (see the pyproject ``package-dir`` mapping).
"""

from __future__ import annotations

import importlib.resources
import re
import string
from collections.abc import Mapping
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs
from mcp.server.mcpserver.prompts.base import Prompt, PromptArgument, UserMessage
from pydantic import BaseModel, ConfigDict, Field, ValidationError

BUNDLED_PACKAGE = "mcp_storyboard._prompts"
SOURCE_DIR = Path(__file__).resolve().parents[2] / "prompts"
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n?(.*)\Z", re.DOTALL)
_NAME = r"^[a-z][a-z0-9_]*$"


class PromptArgumentSpec(BaseModel):
    """One argument of a prompt, as the front matter declares it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME)
    description: str = Field(min_length=1)
    required: bool = False
    default: str = ""
    """What an omitted optional argument renders as."""


class PromptSpec(BaseModel):
    """A prompt file: front matter plus the template body."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME)
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    arguments: tuple[PromptArgumentSpec, ...] = ()
    writes: bool = False
    """The prompt has the assistant call write tools; a read-only server does not offer it."""
    body: str = Field(min_length=1)

    def render(self, values: Mapping[str, str]) -> str:
        """The body with each ``{argument}`` replaced by its value (or its default when omitted)."""
        filled = {a.name: a.default for a in self.arguments}
        filled.update({k: v for k, v in values.items() if k in filled and v is not None})
        return self.body.format_map(_Values(filled))


class _Values(dict[str, str]):
    # Belt and braces: load-time checks already guarantee every field is a declared argument.
    def __missing__(self, key: str) -> str:
        return ""


def parse_prompt(text: str, *, source: str) -> PromptSpec:
    """A :class:`PromptSpec` from a Markdown file's text.

    Raises:
        ValueError: no front matter, invalid front matter, or a template field that is not a plain declared
            argument (attribute access, indexing, conversions and format specs are refused); names ``source``.
    """
    match = _FRONT_MATTER.match(text)
    if match is None:
        raise ValueError(f"{source}: a prompt file starts with YAML front matter between '---' lines")
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        raise ValueError(f"{source}: front matter is not valid YAML: {exc}") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{source}: front matter must be a mapping")
    try:
        spec = PromptSpec.model_validate({**meta, "body": match.group(2).strip() + "\n"})
    except ValidationError as exc:
        raise ValueError(f"{source}: {exc}") from None
    declared = [a.name for a in spec.arguments]
    if len(set(declared)) != len(declared):
        raise ValueError(f"{source}: an argument is declared twice")
    _check_template(spec.body, set(declared), source=source)
    return spec


def _check_template(body: str, declared: set[str], *, source: str) -> None:
    try:
        fields = list(string.Formatter().parse(body))
    except ValueError as exc:
        raise ValueError(f"{source}: template is malformed ({exc}); write literal braces as {{{{ and }}}}") from None
    for _, field, spec, conversion in fields:
        if field is None:
            continue
        if field not in declared or spec or conversion:
            raise ValueError(
                f"{source}: template field {{{field}{'!' + conversion if conversion else ''}"
                f"{':' + spec if spec else ''}}} is not a declared argument; arguments: {', '.join(sorted(declared))}"
            )


def prompts_dir() -> Traversable:
    """Where the prompt files are: the bundled resource package when installed, else ``<checkout>/prompts``.

    Raises:
        FileNotFoundError: neither exists (a wheel built without the prompts).
    """
    try:
        bundled = importlib.resources.files(BUNDLED_PACKAGE)
        if any(p.name.endswith(".md") for p in bundled.iterdir()):
            return bundled
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):
        pass
    if SOURCE_DIR.is_dir():
        return SOURCE_DIR
    raise FileNotFoundError(f"no prompt files: neither package {BUNDLED_PACKAGE} nor {SOURCE_DIR} exists")


def load_prompts(directory: Traversable | Path | None = None) -> list[PromptSpec]:
    """Every ``*.md`` prompt in ``directory`` (default :func:`prompts_dir`), sorted by name.

    Raises:
        ValueError: a file is invalid, its name differs from its file name, or two files share a name.
    """
    root = prompts_dir() if directory is None else directory
    specs: dict[str, PromptSpec] = {}
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".md") or entry.name.startswith(("_", ".")) or entry.name == "README.md":
            continue
        spec = parse_prompt(entry.read_text(encoding="utf-8"), source=entry.name)
        if spec.name != entry.name.removesuffix(".md"):
            raise ValueError(f"{entry.name}: front matter name {spec.name!r} must match the file name")
        specs[spec.name] = spec
    return [specs[name] for name in sorted(specs)]


def to_mcp_prompt(spec: PromptSpec) -> Prompt:
    """The SDK prompt that renders ``spec`` as one user message."""

    def render(**values: Any) -> list[UserMessage]:
        return [UserMessage(spec.render({k: str(v) for k, v in values.items()}))]

    return Prompt(
        name=spec.name,
        title=spec.title,
        description=spec.description,
        arguments=[PromptArgument(name=a.name, description=a.description, required=a.required) for a in spec.arguments],
        fn=render,
        context_kwarg=None,
    )

