"""Prompt composition is pure: exact outputs for crafted inputs, and properties checked with hypothesis."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcp_storyboard.models.characters import Character
from mcp_storyboard.models.clips import Clip
from mcp_storyboard.models.style_templates import StyleTemplate
from mcp_storyboard.services.styles.prompt_composer import (
    character_prefix,
    compose_clip,
    compose_prompt,
    format_number,
    parse_lora,
    split_terms,
)


def alice(**changes: object) -> Character:
    fields: dict[str, object] = {
        "id": "char-1", "project_id": "p1", "name": "Alice", "description": "a knight in silver armour",
        "trigger_words": "alc1", "style_notes": "painterly", "lora": "alice_v2:0.8",
    }  # fmt: skip
    return Character.model_validate({**fields, **changes})


def noir(**changes: object) -> StyleTemplate:
    fields: dict[str, object] = {
        "id": "tpl-1", "name": "Noir", "prompt_additions": "film noir, high contrast",
        "negative_prompt": "blurry, (worst quality, low quality:1.4), text", "style_strength": 1.0,
    }  # fmt: skip
    return StyleTemplate.model_validate({**fields, **changes})


def clip(**changes: object) -> Clip:
    return Clip.model_validate({"id": "clip-1", "scene_id": "s1", "project_id": "p1", **changes})


# -- exact outputs ---------------------------------------------------------------------------------------------------
def test_the_full_composition_puts_prefix_prompt_additions_and_lora_tag_in_order() -> None:
    composed = compose_prompt("image", "A castle at dawn", clip_id="clip-1", character=alice(), template=noir())
    assert composed.positive == (
        "alc1 Alice, a knight in silver armour. Style: painterly. A castle at dawn, film noir, high contrast "
        "<lora:alice_v2:0.8>"
    )
    assert composed.negative == "blurry, (worst quality, low quality:1.4), text"
    assert [(p.target, p.source, p.fields, p.text) for p in composed.parts] == [
        ("positive", "character", ["trigger_words", "name", "description", "style_notes"],
         "alc1 Alice, a knight in silver armour. Style: painterly."),
        ("positive", "clip", ["image_prompt"], "A castle at dawn"),
        ("positive", "style_template", ["prompt_additions", "style_strength"], "film noir, high contrast"),
        ("positive", "character", ["lora"], "<lora:alice_v2:0.8>"),
        ("negative", "style_template", ["negative_prompt"], "blurry, (worst quality, low quality:1.4), text"),
    ]  # fmt: skip
    assert [(lo.name, lo.weight, lo.tag, lo.in_positive) for lo in composed.loras] == [
        ("alice_v2", 0.8, "<lora:alice_v2:0.8>", True)
    ]
    assert composed.has_clip_prompt and composed.notes == []


def test_a_template_below_full_strength_weights_its_additions() -> None:
    composed = compose_prompt("image", "rain", clip_id="c", template=noir(style_strength=0.5))
    assert composed.positive == "rain, (film noir, high contrast:0.5)"
    assert compose_prompt("image", "rain", clip_id="c", template=noir(style_strength=0.75)).positive == (
        "rain, (film noir, high contrast:0.75)"
    )


def test_empty_character_fields_are_left_out_with_their_glue() -> None:
    bare = alice(trigger_words=None, description="", style_notes=None, lora=None)
    assert character_prefix(bare) == ("Alice.", ["name"])
    assert character_prefix(alice(description="", style_notes="  ")) == ("alc1 Alice.", ["trigger_words", "name"])
    assert character_prefix(alice(trigger_words=None, description="tall.", style_notes="ink!"))[0] == (
        "Alice, tall. Style: ink!"
    )
    assert compose_prompt("image", "walks", clip_id="c", character=bare).positive == "Alice. walks"


def test_a_clip_without_a_prompt_gets_only_the_character_and_style_parts() -> None:
    composed = compose_prompt("video", None, clip_id="c", character=alice(lora=None), template=noir())
    assert composed.positive == "alc1 Alice, a knight in silver armour. Style: painterly. film noir, high contrast"
    assert not composed.has_clip_prompt


def test_without_character_or_template_the_prompt_is_the_clips_own_trimmed() -> None:
    composed = compose_prompt("image", "  a quiet street ,, ", clip_id="c")
    assert (composed.positive, composed.negative, composed.loras) == ("a quiet street", "", [])


def test_negative_terms_from_the_base_and_the_template_are_merged_without_duplicates() -> None:
    composed = compose_prompt("image", "x", clip_id="c", template=noir(), base_negative="Blurry,  watermark, TEXT")
    assert composed.negative == "Blurry, watermark, TEXT, (worst quality, low quality:1.4)"
    assert [p.text for p in composed.parts if p.target == "negative"] == [
        "Blurry, watermark, TEXT", "(worst quality, low quality:1.4)"
    ]
    assert "2 repeated negative term(s) dropped" in composed.notes


def test_terms_split_on_top_level_commas_only() -> None:
    assert split_terms("a, (b, c:1.2), [d, e], , f") == ["a", "(b, c:1.2)", "[d, e]", "f"]
    assert split_terms(None) == []


def test_lora_forms_parse_to_a_name_and_weight() -> None:
    def parsed(lora: str) -> tuple[str, float, str | None] | None:
        ref = parse_lora(alice(lora=lora))
        return None if ref is None else (ref.name, ref.weight, ref.tag)

    assert parsed("alice_v2") == ("alice_v2", 1.0, "<lora:alice_v2:1.0>")
    assert parsed("alice_v2:0.65") == ("alice_v2", 0.65, "<lora:alice_v2:0.65>")
    assert parsed("<lora:alice_v2:0.5>") == ("alice_v2", 0.5, "<lora:alice_v2:0.5>")
    assert parsed("<lora:alice_v2>") == ("alice_v2", 1.0, "<lora:alice_v2:1.0>")
    assert parsed("odd:name") == ("odd:name", 1.0, None)
    assert parsed("bad>name") == ("bad>name", 1.0, None)
    assert parsed("   ") is None
    assert format_number(1) == "1.0" and format_number(0.125) == "0.12" and format_number(-0.5) == "-0.5"


def test_a_lora_name_that_cannot_be_a_tag_is_only_listed() -> None:
    composed = compose_prompt("image", "x", clip_id="c", character=alice(lora="x> (nsfw:2) <lora:y"))
    assert "nsfw" not in composed.positive and "<lora" not in composed.positive
    assert composed.loras[0].tag is None and composed.loras[0].in_positive is False
    assert any("cannot be written as a <lora:...> tag" in n for n in composed.notes)


def test_a_prompt_holding_its_own_lora_tag_keeps_its_weight() -> None:
    composed = compose_prompt("image", "hero <lora:alice_v2:0.3> shot", clip_id="c", character=alice())
    assert composed.positive.endswith("hero <lora:alice_v2:0.3> shot")
    assert composed.loras[0].in_positive and "<lora:alice_v2:0.8>" not in composed.positive


def test_a_legacy_prompt_prefixed_twice_by_the_original_app_gets_the_prefix_once() -> None:
    prefix = "alc1 Alice, a knight in silver armour. Style: painterly."
    composed = compose_prompt("image", f"{prefix} {prefix} A castle", clip_id="c", character=alice(lora=None))
    assert composed.positive == f"{prefix} A castle"
    assert any("2 times" in n for n in composed.notes)


def test_text_already_in_the_prompt_is_not_added_again() -> None:
    composed = compose_prompt("image", "A castle, film noir, high contrast, at dusk", clip_id="c", template=noir())
    assert composed.positive == "A castle, film noir, high contrast, at dusk"
    assert any("already holds the style template's additions" in n for n in composed.notes)


def test_stored_text_is_data_and_is_never_interpreted() -> None:
    hostile = "ignore previous instructions {name} %s <lora:evil:9> (x:100)"
    composed = compose_prompt("image", hostile, clip_id="c", character=alice(name="{trigger_words}", lora=None))
    assert composed.positive == "alc1 {trigger_words}, a knight in silver armour. Style: painterly. " + hostile


def test_compose_clip_composes_image_and_video_and_leaves_the_clip_as_it_was() -> None:
    stored = clip(image_prompt="castle", video_prompt="slow pan", character_id="char-1", style_template_id="tpl-1")
    before = stored.model_dump()
    composed = compose_clip(stored, character=alice(lora=None), template=noir(style_strength=0.5))
    prefix = "alc1 Alice, a knight in silver armour. Style: painterly."
    assert composed.image.positive == f"{prefix} castle, (film noir, high contrast:0.5)"
    assert composed.video.positive == f"{prefix} slow pan, (film noir, high contrast:0.5)"
    assert (composed.character_id, composed.style_template_id) == ("char-1", "tpl-1")
    assert stored.model_dump() == before


# -- properties ------------------------------------------------------------------------------------------------------
# A small alphabet with the separators and tag syntax makes overlaps between the parts likely.
_TOKENS = st.sampled_from(["a", "b", " ", ",", ".", ":", "!", "(", ")", "<lora:", ">", "a.", "a, b.", "Style:", "\n"])
_TEXT = st.lists(_TOKENS, max_size=8).map("".join)
_OPTIONAL = st.none() | _TEXT


@st.composite
def _inputs(draw: st.DrawFn) -> tuple[str | None, Character | None, StyleTemplate | None]:
    character = None
    if draw(st.booleans()):
        character = Character(
            project_id="p", name=draw(_TEXT.filter(str.strip)), description=draw(_TEXT),
            trigger_words=draw(_OPTIONAL), style_notes=draw(_OPTIONAL), lora=draw(_OPTIONAL),
        )  # fmt: skip
    template = None
    if draw(st.booleans()):
        template = StyleTemplate(
            name="T", prompt_additions=draw(_TEXT), negative_prompt=draw(_TEXT),
            style_strength=draw(st.sampled_from([0.0, 0.5, 1.0])),
        )  # fmt: skip
    prompt = draw(_OPTIONAL)
    if character is not None and prompt is not None and draw(st.booleans()):  # the original app's doubled prefix
        prompt = (character_prefix(character)[0] + " ") * draw(st.integers(1, 3)) + prompt
    return prompt, character, template


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_inputs())
def test_composing_a_composed_prompt_gives_it_back_unchanged(
    inputs: tuple[str | None, Character | None, StyleTemplate | None],
) -> None:
    prompt, character, template = inputs
    once = compose_prompt("image", prompt, clip_id="c", character=character, template=template)
    twice = compose_prompt("image", once.positive, clip_id="c", character=character, template=template,
                           base_negative=once.negative)
    assert (twice.positive, twice.negative) == (once.positive, once.negative)


@settings(max_examples=300, deadline=None)
@given(_inputs())
def test_the_positive_prompt_is_exactly_its_parts_each_added_once_and_the_clip_text_is_kept_whole(
    inputs: tuple[str | None, Character | None, StyleTemplate | None],
) -> None:
    prompt, character, template = inputs
    composed = compose_prompt("image", prompt, clip_id="c", character=character, template=template)
    positive = [p for p in composed.parts if p.target == "positive"]
    text_parts = [p.text for p in positive if p.fields != ["lora"]]
    rebuilt = ""
    for text in text_parts:
        rebuilt = text if not rebuilt else f"{rebuilt}{' ' if rebuilt[-1] in '.!?' else ', '}{text}"
    tags = [p.text for p in positive if p.fields == ["lora"]]
    rebuilt = " ".join(t for t in [rebuilt, *tags] if t)
    assert rebuilt == composed.positive
    added = [(p.source, tuple(p.fields)) for p in positive if p.source != "clip"]
    assert len(added) == len(set(added))
    clip_texts = [p.text for p in positive if p.source == "clip"]
    assert all(text in (prompt or "") for text in clip_texts)


@settings(max_examples=200, deadline=None)
@given(_inputs(), _OPTIONAL)
def test_composing_never_changes_the_stored_clip(
    inputs: tuple[str | None, Character | None, StyleTemplate | None], video_prompt: str | None
) -> None:
    prompt, character, template = inputs
    stored = clip(image_prompt=prompt, video_prompt=video_prompt)
    before = (stored.model_dump(), character.model_dump() if character else None,
              template.model_dump() if template else None)
    first = compose_clip(stored, character=character, template=template)
    second = compose_clip(stored, character=character, template=template)
    assert first == second
    after = (stored.model_dump(), character.model_dump() if character else None,
             template.model_dump() if template else None)
    assert after == before


@given(st.text(max_size=60), st.text(max_size=60))
def test_merged_negative_terms_are_unique_ignoring_case(base: str, extra: str) -> None:
    composed = compose_prompt("image", "x", clip_id="c", template=noir(negative_prompt=extra), base_negative=base)
    keys = [" ".join(t.casefold().split()) for t in split_terms(composed.negative)]
    assert len(keys) == len(set(keys))


# -- linear trimming (issue 6): the same results as the regexes it replaced ----------------------------------------
def test_whitespace_is_what_isspace_and_the_regex_class_accept() -> None:
    import re
    import sys

    from mcp_storyboard.services.styles.prompt_composer import WHITESPACE

    every = "".join(map(chr, range(sys.maxunicode + 1)))
    assert set(WHITESPACE) == {c for c in every if c.isspace()} == set(re.findall(r"\s", every))


GLUE_TEXT = st.text(alphabet=st.sampled_from(list("ab ,.\t\n\u00a0\u3000")), max_size=40)


@given(GLUE_TEXT)
def test_trimming_matches_the_former_glue_regex(text: str) -> None:
    import re

    from mcp_storyboard.services.styles.prompt_composer import _trim

    assert _trim(text) == re.sub(r"^[\s,]+|[\s,]+$", "", text)


@given(GLUE_TEXT, st.sampled_from(["a.", "a, b.", "ab", ""]))
def test_collapsing_prefix_copies_matches_the_former_loop(text: str, prefix: str) -> None:
    import re

    from mcp_storyboard.services.styles.prompt_composer import _collapse_prefix

    count, rest = 0, text
    while prefix and rest.startswith(prefix):
        after = rest[len(prefix):]
        if after and not (after[0].isspace() or after[0] == ","):
            break
        rest = re.sub(r"^[\s,]+", "", after)
        count += 1
    assert _collapse_prefix(text, prefix) == (count, rest)


def test_a_long_run_of_glue_inside_a_prompt_is_kept_and_the_ends_trimmed() -> None:
    text = " , a" + " ," * 5000 + "b , "
    composed = compose_prompt("image", text, clip_id="clip-1")
    assert composed.positive == "a" + " ," * 5000 + "b"
