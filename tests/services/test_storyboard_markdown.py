"""The Markdown shot list, pure: its structure, timings, names and links, and escaping of user text."""

from __future__ import annotations

import pytest

from mcp_storyboard.models import (
    Character,
    Clip,
    GeneratedMedia,
    Project,
    Scene,
    StyleTemplate,
)
from mcp_storyboard.services.projects.storyboard_markdown import (
    escape_block,
    escape_inline,
    render_storyboard,
    timecode,
)


def render(
    project: Project,
    scenes: list[Scene],
    clips: list[Clip],
    characters: tuple[Character, ...] = (),
    templates: tuple[StyleTemplate, ...] = (),
) -> str:
    return render_storyboard(project, scenes, clips, characters, templates)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "00:00.00"), (4.5, "00:04.50"), (59.999, "01:00.00"), (61.25, "01:01.25"), (3600, "60:00.00")],
)
def test_timecodes_are_minutes_and_seconds_to_the_hundredth(seconds: float, text: str) -> None:
    assert timecode(seconds) == text


def test_a_shot_list_has_a_title_scene_headings_with_offsets_and_a_clip_table() -> None:
    project = Project(name="Night Drive", description="A music video.", music_media_id="song", music_duration=185.5)
    intro, chorus = (
        Scene(project_id=project.id, name="Intro", order=0, lyrics="la la\nna na"),
        Scene(project_id=project.id, name="Chorus", order=1),
    )
    sub = Scene(project_id=project.id, name="Chorus close", parent_scene_id=chorus.id)
    alt = Scene(
        project_id=project.id, name="Chorus A1", parent_scene_id=chorus.id, is_alternate=True, alternate_number=1
    )
    ana = Character(project_id=project.id, name="Ana")
    noir = StyleTemplate(project_id=None, name="Noir")
    video = GeneratedMedia(url="storyboard://media/v1")
    clips = [
        Clip(
            project_id=project.id,
            scene_id=intro.id,
            name="Road",
            order=0,
            timeline_position=0,
            duration=12.5,
            image_prompt="empty road at night",
            character_id=ana.id,
            style_template_id=noir.id,
            generated_videos=[video],
            selected_video_id=video.id,
        ),
        Clip(
            project_id=project.id,
            scene_id=chorus.id,
            name="Lights",
            order=0,
            timeline_position=1,
            duration=4,
            type="text",
            content="Title card",
        ),
        Clip(project_id=project.id, scene_id=alt.id, name="Other lights", order=0, timeline_position=0, duration=2),
    ]
    text = render(project, [intro, chorus, sub, alt], clips, (ana,), (noir,))
    lines = text.splitlines()
    assert lines[0] == "# Night Drive"
    assert "A music video." in lines
    assert "**Music:** [soundtrack](storyboard://media/song), 03:05.50 long" in lines
    assert "*4 scenes · 3 clips · main timeline 00:17.50*" in lines
    assert "## 1. Intro" in lines and "## 2. Chorus" in lines and "### 2.1. Chorus close" in lines
    assert "### Alternate A1. Chorus A1" in lines
    assert "*starts 00:12.50 · length 00:05.00 · 1 clip*" in lines
    assert any(line.startswith("*alternate timeline of *Chorus*") for line in lines)
    assert "> la la" in lines and "> na na" in lines
    assert (
        "| 1 | 00:00.00 | 00:12.50 | 00:12.50 | image | Road | Ana | Noir | [video](storyboard://media/v1) |" in lines
    )
    assert "| 1 | 00:13.50 | 00:17.50 | 00:04.00 | text | Lights | — | — | — |" in lines
    assert "   - Image prompt: empty road at night" in lines and "   - Text: Title card" in lines
    assert "*No clips yet.*" in lines  # the sub-scene
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_an_empty_project_says_so() -> None:
    text = render(Project(name="Empty"), [], [])
    assert text == "# Empty\n\n*0 scenes · 0 clips · main timeline 00:00.00*\n\n*No scenes yet.*\n"


def test_user_text_cannot_open_headings_lists_quotes_fences_html_or_table_cells() -> None:
    project = Project(
        name="# Title | with pipe",
        description="## not a heading\n- not a list\n> not a quote\n```\n"
        "<script>alert(1)</script>\n1. not ordered\n---\n    not code",
    )
    s = Scene(project_id=project.id, name="Scene *bold* [link](http://x)", lyrics="# sung\n=====")
    c = Clip(project_id=project.id, scene_id=s.id, name="a | b", image_prompt="line1\n## line2 `code` <b>x</b> & co")
    text = render(project, [s], [c])
    lines = text.splitlines()
    assert lines[0] == r"# \# Title \| with pipe"
    assert r"\#\# not a heading  " in lines and r"\- not a list  " in lines and r"\> not a quote  " in lines
    assert r"\`\`\`  " in lines and r"\<script\>alert(1)\</script\>  " in lines
    assert r"1\. not ordered  " in lines and r"\---  " in lines and "not code" in lines
    assert r"## 1. Scene \*bold\* \[link\](http://x)" in lines
    assert r"> \# sung" in lines and r"> \=====" in lines
    row = next(line for line in lines if line.startswith("| 1 |"))
    assert row.count(" | ") == 8 and r"a \| b" in row
    assert r"   - Image prompt: line1 \#\# line2 \`code\` \<b\>x\</b\> \& co" in lines
    assert "<script>" not in text and "<b>" not in text


def test_missing_characters_and_templates_are_named_as_missing() -> None:
    project = Project(name="P")
    s = Scene(project_id=project.id, name="S")
    c = Clip(project_id=project.id, scene_id=s.id, character_id="gone", style_template_id="old")
    row = next(line for line in render(project, [s], [c]).splitlines() if line.startswith("| 1 |"))
    assert "*(missing character gone)*" in row and "*(missing template old)*" in row


def test_media_links_cannot_break_out_of_their_parentheses() -> None:
    project = Project(name="P")
    s = Scene(project_id=project.id, name="S")
    image = GeneratedMedia(url="https://x.test/a(1)<b>.png")
    c = Clip(project_id=project.id, scene_id=s.id, generated_images=[image], selected_image_id=image.id)
    text = render(project, [s], [c])
    assert "[image](https://x.test/a%281%29%3Cb%3E.png)" in text


def test_escaping_helpers_keep_text_readable() -> None:
    assert escape_inline("Plain words, 3.5 s - fine: ok!") == "Plain words, 3.5 s - fine: ok!"
    assert escape_block("  indented\n\n+ plus\n2) two") == ["indented", "", r"\+ plus", r"2\) two"]
