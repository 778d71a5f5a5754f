"""A corpus of files the tests generate, each with the outcome intake must give it.

Valid files in every format both seeds list, and one file for each bad case the issue
names. ``expect`` is either a kind (accepted as that kind of media) or a fragment of the
refusal message the user sees.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests import mediafactory


@dataclass(frozen=True)
class Case:
    name: str  # file name as the browser would send it
    slot: str  # the kind the form slot expects: video, audio, image
    make: Callable[[Path], Path]
    expect: str  # "ok:<extension>" or a fragment of the refusal message


def _video(suffix, **kwargs):
    return lambda path: mediafactory.make_video(path.with_suffix(suffix), seconds=1.0, **kwargs)


def _audio(suffix, **kwargs):
    return lambda path: mediafactory.make_audio(path.with_suffix(suffix), seconds=1.0, **kwargs)


def _image(suffix):
    return lambda path: mediafactory.make_image(path.with_suffix(suffix), width=64, height=64)


def _bytes(data: bytes):
    def make(path: Path) -> Path:
        path.write_bytes(data)
        return path

    return make


def _truncated(inner, keep: float):
    def make(path: Path) -> Path:
        made = inner(path)
        data = made.read_bytes()
        made.write_bytes(data[: int(len(data) * keep)])
        return made

    return make


def png_bomb(width: int = 30000, height: int = 30000) -> bytes:
    """A PNG whose header claims width x height pixels; the body is a few bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"

CASES = [
    # Every accepted format, by content.
    Case("clip.mp4", "video", _video(".mp4"), "ok:.mp4"),
    Case("clip.mov", "video", _video(".mov"), "ok:.mov"),
    Case("clip.avi", "video", _video(".avi"), "ok:.avi"),
    Case("clip.webm", "video", _video(".webm"), "ok:.webm"),
    Case("clip.mkv", "video", _video(".mkv"), "ok:.mkv"),
    Case("photo.jpg", "image", _image(".jpg"), "ok:.jpg"),
    Case("photo.png", "image", _image(".png"), "ok:.png"),
    Case("photo.gif", "image", _image(".gif"), "ok:.gif"),
    Case("photo.webp", "image", _image(".webp"), "ok:.webp"),
    Case("voice.mp3", "audio", _audio(".mp3"), "ok:.mp3"),
    Case("voice.wav", "audio", _audio(".wav"), "ok:.wav"),
    Case("voice.m4a", "audio", _audio(".m4a"), "ok:.m4a"),
    Case("voice.aac", "audio", _audio(".aac"), "ok:.aac"),
    # A name is not a format: the content decides.
    Case("misnamed.mp3", "video", _video(".mkv"), "ok:.mkv"),
    # Bad cases.
    Case("notes.mp4", "video", _bytes(b"Meeting notes, not a video at all.\n" * 20), "text file, not media"),
    Case("setup.mp3", "audio", _bytes(ELF), "Linux program"),
    Case("setup.mp4", "video", _bytes(b"MZ\x90\x00" + b"\x00" * 60), "Windows program"),
    Case("run.wav", "audio", _bytes(b"#!/bin/sh\nrm -rf /\n"), "script, not media"),
    Case("page.mp4", "video", _bytes(HTML), "web page (HTML)"),
    Case("drawing.png", "image", _bytes(SVG), "SVG drawing"),
    Case("empty.mp4", "video", _bytes(b""), "empty"),
    Case("cut.mp4", "video", _truncated(_video(".mp4"), 0.5), "damaged or truncated"),
    Case("cut.png", "image", _truncated(_image(".png"), 0.5), "damaged or truncated"),
    Case("cut.jpg", "image", _truncated(_image(".jpg"), 0.4), "damaged or truncated"),
    Case("voice-only.mp4", "video", _audio(".m4a"), "no video stream"),
    Case("bomb.png", "image", _bytes(png_bomb()), "30000x30000"),
    Case("random.webm", "video", _bytes(np.random.default_rng(7).bytes(8192)), "not a video, audio file or image"),
    Case("voice.ogg", "audio", lambda path: _ogg(path), "not supported"),
]


def _ogg(path: Path) -> Path:
    import av

    target = path.with_suffix(".ogg")
    with av.open(str(target), mode="w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=48_000)
        stream.layout = "mono"
        for index in range(10):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 960), dtype=np.float32), format="flt", layout="mono")
            frame.sample_rate = 48_000
            frame.pts = index * 960
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return target


HOSTILE_NAMES = [
    ("../../x.mp4", "x.mp4"),
    ("clip\x00.mp4", "clip.mp4"),
    ("evil\u202egpj.mp4", "evilgpj.mp4"),
    ("a" * 300 + ".mp4", None),  # kept shortened, at most 255 characters
    ("配音 视频.mp4", "配音 视频.mp4"),
]
