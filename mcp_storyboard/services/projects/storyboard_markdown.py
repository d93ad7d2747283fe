"""The storyboard as a Markdown shot list a person reads, pure.

Structure (headings, tables, lists, links) comes from here only: every piece of user text is escaped so that a
name such as ``# Act | 1`` or a prompt holding ``</table>`` or a fenced block shows as written and cannot open a
heading, end a table cell, start a list or inject HTML.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from mcp_storyboard.models.characters import Character
from mcp_storyboard.models.clips import Clip, GeneratedMedia
from mcp_storyboard.models.projects import Project
from mcp_storyboard.models.scenes import Scene
from mcp_storyboard.models.style_templates import StyleTemplate
from mcp_storyboard.services.projects.tree import SceneNode, build_tree

MEDIA_URI_PREFIX = "storyboard://media/"
# Backslash escapes for every character that can start inline markup (emphasis, code, links, HTML, entities,
# strikethrough, table cells) or close an ATX heading; block starters at a line start are handled per line.
_INLINE_SPECIALS = re.compile(r"([\\`*_\[\]<>#|~&])")
_URL_UNSAFE = {"<": "%3C", ">": "%3E", "(": "%28", ")": "%29", " ": "%20", "\\": "%5C", "`": "%60"}
_MAX_HEADING_LEVEL = 6


def escape_inline(text: str) -> str:
    """``text`` on one line with its Markdown-active characters backslash-escaped (CommonMark allows escaping any
    ASCII punctuation), so it renders literally inside a heading, a table cell or a list item."""
    one_line = " ".join(text.split())
    return _INLINE_SPECIALS.sub(r"\\\1", one_line)


def escape_block(text: str) -> list[str]:
    """``text`` as escaped lines that keep the author's line breaks but can open no block of their own (no
    heading, quote, list, fence, setext underline or indented code)."""
    lines = []
    for raw in text.strip().splitlines():
        line = _INLINE_SPECIALS.sub(r"\\\1", raw.strip())
        line = re.sub(r"^(\d+)([.)])", r"\1\\\2", line)  # "1." / "1)" would start an ordered list
        line = re.sub(r"^([-+=])", r"\\\1", line)  # a list item, or a setext underline under the line before
        lines.append(line)
    return lines


def timecode(seconds: float) -> str:
    """``mm:ss.ss`` (minutes grow past 59), computed in centiseconds so 59.999 never prints as 00:60.00."""
    centis = max(0, round(seconds * 100))
    minutes, rest = divmod(centis, 6000)
    return f"{minutes:02d}:{rest // 100:02d}.{rest % 100:02d}"


def _url(url: str) -> str:
    return "".join(_URL_UNSAFE.get(ch, ch) for ch in url)


def _link(label: str, url: str) -> str:
    return f"[{escape_inline(label)}]({_url(url)})"


def _selected(entries: Sequence[GeneratedMedia], selected_id: str | None) -> GeneratedMedia | None:
    return next((m for m in entries if m.id == selected_id), None) if selected_id else None


class _Renderer:
    def __init__(
        self,
        clips: Sequence[Clip],
        characters: Mapping[str, Character],
        templates: Mapping[str, StyleTemplate],
        scenes: Mapping[str, Scene],
    ) -> None:
        self.clips = {c.id: c for c in clips}
        self.characters = characters
        self.templates = templates
        self.scenes = scenes
        self.out: list[str] = []

    def emit(self, *lines: str) -> None:
        self.out.extend(lines)

    def paragraph(self, text: str, *, quote: bool = False) -> None:
        lines = escape_block(text)
        if not lines:
            return
        if quote:
            self.emit(*(f"> {line}" if line else ">" for line in lines), "")
        else:
            # Two trailing spaces keep the author's line breaks inside one paragraph.
            last = len(lines) - 1
            self.emit(*(line + "  " if i < last and line else line for i, line in enumerate(lines)), "")

    def scene(self, node: SceneNode, number: str, level: int, original: SceneNode | None = None) -> None:
        heading = "#" * min(level, _MAX_HEADING_LEVEL)
        label = f"Alternate A{node.alternate_number}" if node.is_alternate and node.alternate_number else number
        self.emit(f"{heading} {label}. {escape_inline(node.name)}", "")
        facts = [
            f"starts {timecode(node.offset)}",
            f"length {timecode(node.duration)}",
            f"{node.clip_count} clip{'s' if node.clip_count != 1 else ''}",
        ]
        if original is not None:
            facts.insert(0, f"alternate timeline of *{escape_inline(original.name)}*, not on the main timeline")
        self.emit("*" + " · ".join(facts) + "*", "")
        scene = self.scenes.get(node.id)
        if scene is not None:
            self.paragraph(scene.description)
            if scene.lyrics.strip():
                self.emit("**Lyrics**", "")
                self.paragraph(scene.lyrics, quote=True)
        self.clip_table(node)
        for i, sub in enumerate(node.sub_scenes, start=1):
            self.scene(sub, f"{number}.{i}", level + 1)
        for alternate in node.alternates:
            self.scene(alternate, number, level + 1, original=node)

    def clip_table(self, node: SceneNode) -> None:
        clips = [self.clips[c.id] for c in node.clips if c.id in self.clips]
        if not clips:
            self.emit("*No clips yet.*", "")
            return
        self.emit(
            "| # | Start | End | Length | Type | Clip | Character | Style | Selected media |",
            "|---|---|---|---|---|---|---|---|---|",
        )
        for i, clip in enumerate(clips, start=1):
            start = node.offset + clip.timeline_position
            name = escape_inline(clip.name) or "—"
            if clip.alternate_of is not None:
                original = self.clips.get(clip.alternate_of)
                of = escape_inline(original.name or original.id) if original else escape_inline(clip.alternate_of)
                name += f" *(alternate A{clip.alternate_number or '?'} of {of})*"
            self.emit("| " + " | ".join([
                str(i), timecode(start), timecode(start + clip.duration), timecode(clip.duration), clip.type, name,
                self.character_name(clip.character_id), self.template_name(clip.style_template_id), self.media(clip),
            ]) + " |")  # fmt: skip
        self.emit("")
        details = [(i, c) for i, c in enumerate(clips, start=1) if _has_text(c)]
        if details:
            self.emit("**Prompts and text**", "")
            for i, clip in details:
                self.emit(f"{i}. **{escape_inline(clip.name) or 'Clip'}**")
                for label, value in (
                    ("Image prompt", clip.image_prompt),
                    ("Video prompt", clip.video_prompt),
                    ("Text", clip.content),
                    ("Lyrics", clip.lyrics),
                ):
                    if value and value.strip():
                        self.emit(f"   - {label}: {escape_inline(value)}")
            self.emit("")

    def character_name(self, character_id: str | None) -> str:
        if character_id is None:
            return "—"
        character = self.characters.get(character_id)
        return escape_inline(character.name) if character else f"*(missing character {escape_inline(character_id)})*"

    def template_name(self, template_id: str | None) -> str:
        if template_id is None:
            return "—"
        template = self.templates.get(template_id)
        return escape_inline(template.name) if template else f"*(missing template {escape_inline(template_id)})*"

    def media(self, clip: Clip) -> str:
        links = []
        for kind, entries, selected_id in (
            ("video", clip.generated_videos, clip.selected_video_id),
            ("image", clip.generated_images, clip.selected_image_id),
        ):
            entry = _selected(entries, selected_id)
            if entry is not None:
                links.append(_link(kind, entry.url))
        if not links and clip.media_url:
            links.append(_link("media", clip.media_url))
        return " ".join(links) or "—"


def _has_text(clip: Clip) -> bool:
    return any(v and v.strip() for v in (clip.image_prompt, clip.video_prompt, clip.content, clip.lyrics))


def render_storyboard(
    project: Project,
    scenes: Sequence[Scene],
    clips: Sequence[Clip],
    characters: Sequence[Character],
    templates: Sequence[StyleTemplate],
) -> str:
    """The shot list: title, description, music, then each scene as a heading (offset and length, lyrics, a clip
    table with project-timeline times, character and style names and the selected media), sub-scenes nested one
    heading level down and alternates noted under their original."""
    tree = build_tree(project, scenes, clips)
    renderer = _Renderer(clips, {c.id: c for c in characters}, {t.id: t for t in templates}, {s.id: s for s in scenes})
    renderer.emit(f"# {escape_inline(project.name)}", "")
    renderer.paragraph(project.description)
    facts = [
        f"{tree.scene_count} scene{'s' if tree.scene_count != 1 else ''}",
        f"{tree.clip_count} clip{'s' if tree.clip_count != 1 else ''}",
        f"main timeline {timecode(tree.total_duration)}",
    ]
    renderer.emit("*" + " · ".join(facts) + "*", "")
    if project.music_media_id or project.music_duration is not None:
        music = (
            _link("soundtrack", MEDIA_URI_PREFIX + project.music_media_id) if project.music_media_id else "soundtrack"
        )
        length = f", {timecode(project.music_duration)} long" if project.music_duration is not None else ""
        renderer.emit(f"**Music:** {music}{length}", "")
    if not tree.scenes:
        renderer.emit("*No scenes yet.*", "")
    for i, node in enumerate(tree.scenes, start=1):
        renderer.scene(node, str(i), 2)
    return "\n".join(renderer.out).rstrip() + "\n"
