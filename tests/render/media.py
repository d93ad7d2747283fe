"""Media for the animatic tests, made with Pillow and PyAV itself: solid-colour stills, short music files, and
what a rendered MP4 holds when decoded."""

from __future__ import annotations

import io
from dataclasses import dataclass
from fractions import Fraction

import av
from PIL import Image, ImageStat

from mcp_storyboard.models.clips import Clip, GeneratedMedia
from mcp_storyboard.services.container import Services


def solid(colour: tuple[int, int, int], size: tuple[int, int] = (320, 180)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def silence(seconds: float, *, fmt: str) -> tuple[bytes, str]:
    """``seconds`` of silent stereo audio: AAC in an M4A (``fmt="m4a"``) or PCM in a WAV; (data, MIME type)."""
    out = io.BytesIO()
    codec, sample_format, mime = ("aac", "fltp", "audio/mp4") if fmt == "m4a" else ("pcm_s16le", "s16", "audio/wav")
    with av.open(out, mode="w", format="ipod" if fmt == "m4a" else "wav") as container:
        stream = container.add_stream(codec, rate=44_100, layout="stereo")
        for start in range(0, int(44_100 * seconds), 1024):
            frame = av.AudioFrame(format=sample_format, layout="stereo", samples=1024)
            for plane in frame.planes:
                plane.update(bytes(plane.buffer_size))
            frame.sample_rate, frame.pts = 44_100, start
            for packet in stream.encode(frame):  # type: ignore[union-attr]
                container.mux(packet)
        for packet in stream.encode(None):  # type: ignore[union-attr]
            container.mux(packet)
    return out.getvalue(), mime


async def add_clip(services: Services, project_id: str, scene_id: str, name: str, position: float, duration: float,
                   image: bytes | None = None, **fields: object) -> Clip:
    if image is not None:
        info = await services.database.media.put(image, content_type="image/png", project_id=project_id)
        entry = GeneratedMedia(url=info.uri, media_id=info.id)
        fields = {**fields, "generated_images": [entry], "selected_image_id": entry.id}
    return await services.repositories.clips.insert(Clip(  # type: ignore[arg-type]
        project_id=project_id, scene_id=scene_id, name=name, timeline_position=position, duration=duration, **fields))


@dataclass
class Decoded:
    size: tuple[int, int]
    video_seconds: float
    frames: list[tuple[float, tuple[float, ...]]]
    """(time, mean colour of the picture above the burn-in band) of each decoded frame."""
    audio_seconds: float | None
    audio_codec: str | None

    def colour_at(self, seconds: float) -> tuple[float, ...]:
        """The colour on screen at ``seconds``: the last frame shown at or before it."""
        return [colour for time, colour in self.frames if time <= seconds + 1e-6][-1]


def decode(data: bytes) -> Decoded:
    with av.open(io.BytesIO(data)) as container:
        video = container.streams.video[0]
        assert video.duration is not None and video.time_base is not None
        frames = []
        for frame in container.decode(video=0):
            image = frame.to_image()
            top = image.crop((0, 0, image.width, image.height * 3 // 4))
            frames.append((float(frame.pts * frame.time_base), tuple(ImageStat.Stat(top).mean)))
        size = (video.width, video.height)
        video_seconds = float(video.duration * video.time_base)
    with av.open(io.BytesIO(data)) as container:
        audio_seconds = codec = None
        if container.streams.audio:
            audio = container.streams.audio[0]
            codec = audio.codec_context.name
            end = Fraction(0)
            for packet in container.demux(audio):
                if packet.pts is not None and packet.duration is not None:
                    end = max(end, (packet.pts + packet.duration) * packet.time_base)
            audio_seconds = float(end)
    return Decoded(size, video_seconds, frames, audio_seconds, codec)


def near(actual: tuple[float, ...], expected: tuple[int, ...], tolerance: float = 6.0) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def solid_video(colours: list[tuple[int, int, int]], seconds_each: float, *, rate: int = 30,
                size: tuple[int, int] = (64, 48)) -> bytes:
    """An H.264 MP4 at ``rate`` fps showing each colour for ``seconds_each`` seconds in turn."""
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"  # type: ignore[union-attr]
        count = 0
        for colour in colours:
            picture = av.VideoFrame.from_image(Image.new("RGB", size, colour)).reformat(format="yuv420p")
            for _ in range(round(seconds_each * rate)):
                picture.pts = count
                count += 1
                for packet in stream.encode(picture):  # type: ignore[union-attr]
                    container.mux(packet)
        for packet in stream.encode(None):  # type: ignore[union-attr]
            container.mux(packet)
    return out.getvalue()


async def add_video_clip(services: Services, project_id: str, scene_id: str, name: str, position: float,
                         duration: float, video: bytes, *, content_type: str = "video/mp4",
                         image: bytes | None = None) -> Clip:
    """A video clip whose selected video is ``video`` in the media store (and, given, ``image`` its image)."""
    info = await services.database.media.put(video, content_type=content_type, project_id=project_id)
    entry = GeneratedMedia(url=info.uri, media_id=info.id)
    return await add_clip(services, project_id, scene_id, name, position, duration, image, type="video",
                          generated_videos=[entry], selected_video_id=entry.id)
