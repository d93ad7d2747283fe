"""Prompt composition: a clip's final positive and negative prompts from its own text, its character and its style
template. Pure functions (no I/O, no event loop); the services fetch the documents and call :func:`compose_clip`.

The rules, in order of the final positive prompt:

1. **Character prefix** (original app, ``reference/original-app.md`` §4.5): ``{trigger_words} {name}, {description}.
   Style: {style_notes}.`` — empty fields are left out with their glue, and no period is doubled.
2. **The clip's own prompt** (``image_prompt`` or ``video_prompt``), trimmed of surrounding whitespace and commas.
3. **Style template additions**: ``prompt_additions`` as written at ``style_strength`` 1.0, below it weighted as
   ``(additions:STRENGTH)``.
4. **LoRA tag** of the character: ``<lora:NAME:WEIGHT>`` (``lora`` may be ``name``, ``name:weight`` or a tag; the
   weight defaults to 1.0). Also returned as a structured ``loras`` entry, for generators that load LoRAs as nodes.

Segments are joined with ", ", or with a space after a segment that ends a sentence (``.``, ``!``, ``?``).

Nothing is ever doubled: a part already in the clip's own prompt verbatim is not added again (a ``<lora:NAME:...>``
there keeps its weight), and copies of the character prefix repeated at the start of a stored prompt — the original
app prefixed the stored text on every "apply" — collapse to one. Composing a composed prompt gives it back unchanged
(idempotent). Nothing is stored: the composition happens at generation time.

The negative prompt merges an optional base (e.g. a model preset's) with the template's ``negative_prompt``,
comma-separated terms de-duplicated case-insensitively, first occurrence kept. Commas inside parentheses or brackets
(``(worst quality, low quality:1.4)``) do not split a term.

Stored text is data: it is only trimmed, searched for verbatim copies and concatenated, never interpreted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import product

from mcp_storyboard.models.characters import Character
from mcp_storyboard.models.clips import Clip
from mcp_storyboard.models.style_templates import StyleTemplate
from mcp_storyboard.services.styles.prompt_models import (
    ComposedClipPrompt,
    ComposedPrompt,
    LoraRef,
    PartSource,
    PromptKind,
    PromptPart,
)

_SENTENCE_END = ".!?"
# Whitespace (what str.isspace and the regex class \s both mean) and commas. Trimmed with str.strip, which is
# linear: the regex `[\s,]+$` retried every run of glue inside a text up to its end, so a 10,000-character prompt
# with long runs of spaces and commas took seconds and blocked the event loop.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000"
)
"""Every character ``str.isspace`` (and so the regex class ``\\s``) accepts."""
_GLUE = WHITESPACE + ","
_GLUE_SET = frozenset(_GLUE)
_LORA_TAG = re.compile(r"^<lora:([^<>]+?)(?::([^<>:]*))?>$")
_TAGGABLE_NAME = re.compile(r"^[^<>:\x00-\x1f]+$")
_OPENERS, _CLOSERS = "([{<", ")]}>"


def _trim(text: str | None) -> str:
    """Surrounding whitespace and commas removed."""
    return (text or "").strip(_GLUE)


def _join(segments: list[str]) -> str:
    out = ""
    for segment in segments:
        if not segment:
            continue
        if not out:
            out = segment
        elif out[-1] in _SENTENCE_END:
            out = f"{out} {segment}"
        else:
            out = f"{out}, {segment}"
    return out


def _sentence(text: str) -> str:
    return text if text[-1:] in _SENTENCE_END else f"{text}."


def format_number(value: float) -> str:
    """``1.0``, ``0.75``, ``0.5``: two decimals at most, at least one."""
    text = f"{value:.2f}".rstrip("0")
    return f"{text}0" if text.endswith(".") else text


def split_terms(text: str | None) -> list[str]:
    """Comma-separated terms, trimmed, empty ones dropped; commas inside ``()``, ``[]``, ``{}``, ``<>`` do not split."""
    terms: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text or "":
        if char in _OPENERS:
            depth += 1
        elif char in _CLOSERS:
            depth = max(0, depth - 1)
        if char == "," and depth == 0:
            terms.append("".join(current))
            current = []
        else:
            current.append(char)
    terms.append("".join(current))
    return [t.strip() for t in terms if t.strip()]


def _term_key(term: str) -> str:
    return " ".join(term.casefold().split())


# -- the parts -----------------------------------------------------------------------------------------------------
def character_prefix(character: Character) -> tuple[str, list[str]]:
    """``{trigger_words} {name}, {description}. Style: {style_notes}.`` without the empty fields, and the fields
    used. Always ends a sentence, so the clip's prompt follows after a space."""
    trigger, name = _trim(character.trigger_words), _trim(character.name)
    description, notes = _trim(character.description), _trim(character.style_notes)
    fields = [f for f, v in (("trigger_words", trigger), ("name", name)) if v]
    head = " ".join(v for v in (trigger, name) if v)
    if description:
        head = f"{head}, {description}" if head else description
        fields.append("description")
    prefix = _sentence(head) if head else ""
    if notes:
        prefix = f"{prefix} Style: {_sentence(notes)}".strip()
        fields.append("style_notes")
    return prefix, fields


def parse_lora(character: Character) -> LoraRef | None:
    """The character's LoRA as a structured reference (``name``, ``name:weight`` or ``<lora:name:weight>``)."""
    raw = (character.lora or "").strip()
    if not raw:
        return None
    tag_match = _LORA_TAG.match(raw)
    if tag_match:
        name, weight_text = tag_match.group(1).strip(), tag_match.group(2)
    else:
        head, sep, tail = raw.rpartition(":")
        name, weight_text = (head.strip(), tail) if sep and _as_weight(tail) is not None else (raw, None)
    weight = _as_weight(weight_text) if weight_text is not None else None
    weight = 1.0 if weight is None else weight
    taggable = bool(name) and _TAGGABLE_NAME.match(name) is not None and name == name.strip()
    tag = f"<lora:{name}:{format_number(weight)}>" if taggable else None
    return LoraRef(name=name or raw, weight=weight, tag=tag, in_positive=False, character_id=character.id)


def _as_weight(text: str | None) -> float | None:
    try:
        value = float((text or "").strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and -10.0 <= value <= 10.0 else None


def style_additions(template: StyleTemplate) -> str:
    """The template's additions as placed in the prompt: weighted ``(additions:STRENGTH)`` below strength 1.0."""
    additions = _trim(template.prompt_additions)
    if not additions or template.style_strength >= 1.0:
        return additions
    return f"({additions}:{format_number(template.style_strength)})"


def _collapse_prefix(text: str, prefix: str) -> tuple[int, str]:
    """How many copies of ``prefix`` start ``text`` (each followed by a space, a comma or the end), and the rest."""
    count, start = 0, 0
    # Walks an index instead of slicing the rest after every copy: a prompt of many copies stays linear.
    while prefix and text.startswith(prefix, start):
        end = start + len(prefix)
        if end < len(text) and not (text[end].isspace() or text[end] == ","):
            break
        start = end
        while start < len(text) and text[start] in _GLUE_SET:
            start += 1
        count += 1
    return count, text[start:]


def _has_lora(text: str, name: str) -> bool:
    return f"<lora:{name}:" in text or f"<lora:{name}>" in text


# -- composition ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Layout:
    """How a positive prompt is assembled from a stored prompt (the slots filled, the body kept)."""

    positive: str
    body: str
    copies: int
    put_prefix: bool
    put_additions: bool
    put_tag: bool
    lora_in_body: bool


def _layout(stored: str, prefix: str, additions: str, lora: LoraRef | None) -> _Layout:
    copies, body = _collapse_prefix(_trim(stored), prefix)
    put_prefix = bool(prefix) and (copies > 0 or prefix not in body)
    put_additions = bool(additions) and additions not in body
    lora_in_body = lora is not None and _has_lora(body, lora.name)
    put_tag = lora is not None and lora.tag is not None and not lora_in_body
    positive = _join([prefix if put_prefix else "", body, additions if put_additions else ""])
    if put_tag and lora is not None and lora.tag is not None:
        positive = f"{positive} {lora.tag}" if positive else lora.tag
    return _Layout(positive, body, copies, put_prefix, put_additions, put_tag, lora_in_body)


def _uncompose(text: str, prefix: str, additions: str, tag: str | None) -> Iterator[str]:
    """The stored prompts :func:`_layout` could have turned into ``text`` (candidates, checked by the caller): the
    tag, the additions and the prefix each taken off or left, both separators tried before the additions."""
    for take_tag, take_additions, take_prefix, separator in product((True, False), (True, False), (True, False),
                                                                    (", ", " ")):
        if not (take_tag or take_additions or take_prefix):
            continue  # the text as it is: the caller lays it out itself
        rest: str | None = text
        if take_tag:
            rest = _cut_suffix(text, tag, " ") if tag else None
        if take_additions and rest is not None:
            rest = _cut_suffix(rest, additions, separator) if additions else None
        if take_prefix and rest is not None:
            rest = _cut_prefix(rest, prefix, " ") if prefix else None
        if rest is not None:
            yield rest


def _cut_suffix(text: str, part: str, separator: str) -> str | None:
    rest = text[: len(text) - len(part)] if text.endswith(part) else None
    if not rest:
        return rest
    return rest[: -len(separator)] if rest.endswith(separator) else None


def _cut_prefix(text: str, part: str, separator: str) -> str | None:
    rest = text[len(part):] if text.startswith(part) else None
    if not rest:
        return rest
    return rest[len(separator):] if rest.startswith(separator) else None


def compose_prompt(
    kind: PromptKind,
    clip_prompt: str | None,
    *,
    clip_id: str,
    character: Character | None = None,
    template: StyleTemplate | None = None,
    base_negative: str | None = None,
) -> ComposedPrompt:
    """The final prompts of one kind from the clip's prompt of that kind, its character and its template."""
    field = f"{kind}_prompt"
    stored = _trim(clip_prompt)
    notes: list[str] = []
    prefix, prefix_fields = character_prefix(character) if character is not None else ("", [])
    additions = style_additions(template) if template is not None else ""
    lora = parse_lora(character) if character is not None else None
    tag = lora.tag if lora is not None else None
    # A prompt that already is a composition of these parts comes back unchanged (composing is idempotent): the
    # first stored prompt whose layout reproduces it exactly explains its parts.
    layout = next(
        (found for candidate in _uncompose(stored, prefix, additions, tag)
         if (found := _layout(candidate, prefix, additions, lora)).positive == stored),
        None,
    )
    if layout is not None:
        notes.append(f"the stored {field} already is a composition of these parts; nothing is added")
    else:
        layout = _layout(stored, prefix, additions, lora)
        if layout.copies > 1:
            notes.append(f"the stored {field} starts with the character prefix {layout.copies} times; it is used once")
        if prefix and not layout.put_prefix:
            notes.append(f"the stored {field} already holds the character prefix; it is not added again")
        if additions and not layout.put_additions:
            notes.append(f"the stored {field} already holds the style template's additions; they are not added again")
    parts: list[PromptPart] = []
    if character is not None and layout.put_prefix:
        parts.append(PromptPart(target="positive", source="character", source_id=character.id,
                                fields=prefix_fields, text=prefix))
    if layout.body:
        parts.append(PromptPart(target="positive", source="clip", source_id=clip_id, fields=[field], text=layout.body))
    if template is not None and layout.put_additions:
        parts.append(PromptPart(target="positive", source="style_template", source_id=template.id,
                                fields=["prompt_additions", "style_strength"], text=additions))
    loras: list[LoraRef] = []
    if lora is not None and character is not None:
        if layout.put_tag and tag is not None:
            parts.append(PromptPart(target="positive", source="character", source_id=character.id,
                                    fields=["lora"], text=tag))
        elif layout.lora_in_body:
            notes.append(f"the stored {field} already holds a <lora:{lora.name}...> tag; its weight is kept")
        else:
            notes.append(f"the LoRA name '{lora.name}' cannot be written as a <lora:...> tag; load it from `loras`")
        loras.append(lora.model_copy(update={"in_positive": layout.put_tag or layout.lora_in_body}))
    negative, negative_parts, dropped = _merge_negative(base_negative, template)
    parts.extend(negative_parts)
    if dropped:
        notes.append(f"{dropped} repeated negative term(s) dropped")
    return ComposedPrompt(kind=kind, positive=layout.positive, negative=negative, has_clip_prompt=bool(stored),
                          parts=parts, loras=loras, notes=notes)


def _merge_negative(base: str | None, template: StyleTemplate | None) -> tuple[str, list[PromptPart], int]:
    seen: set[str] = set()
    terms: list[str] = []
    parts: list[PromptPart] = []
    dropped = 0
    sources: list[tuple[PartSource, str | None, str | None]] = [("base", None, base)]
    if template is not None:
        sources.append(("style_template", template.id, template.negative_prompt))
    for source, source_id, text in sources:
        kept: list[str] = []
        for term in split_terms(text):
            key = _term_key(term)
            if key in seen:
                dropped += 1
                continue
            seen.add(key)
            kept.append(term)
        if kept:
            terms.extend(kept)
            parts.append(PromptPart(target="negative", source=source, source_id=source_id,
                                    fields=["negative_prompt"], text=", ".join(kept)))
    return ", ".join(terms), parts, dropped


def compose_clip(
    clip: Clip,
    *,
    character: Character | None = None,
    template: StyleTemplate | None = None,
    base_negative: str | None = None,
) -> ComposedClipPrompt:
    """Both compositions (image and video) of a clip; the clip is only read."""
    return ComposedClipPrompt(
        clip_id=clip.id,
        character_id=character.id if character is not None else None,
        style_template_id=template.id if template is not None else None,
        image=compose_prompt("image", clip.image_prompt, clip_id=clip.id, character=character, template=template,
                             base_negative=base_negative),
        video=compose_prompt("video", clip.video_prompt, clip_id=clip.id, character=character, template=template,
                             base_negative=base_negative),
    )
