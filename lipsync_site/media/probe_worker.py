"""Runs in its own process (see probe.py): prints one JSON object describing the file."""

import json
import sys

# Container formats both seeds list, by the name FFmpeg's demuxer reports.
VIDEO_CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi"}
AUDIO_CONTAINERS = {"mp3", "wav", "aac", "mov,mp4,m4a,3gp,3g2,mj2"}
IMAGE_FORMATS = {
    "JPEG": (".jpg", "image/jpeg"),
    "PNG": (".png", "image/png"),
    "GIF": (".gif", "image/gif"),
    "WEBP": (".webp", "image/webp"),
}
MAX_IMAGE_PIXELS = 40_000_000  # 40 MP: a big camera still, far from a decompression bomb
SNIFF_BYTES = 4096


def sniff(head: bytes) -> str | None:
    """Name what a non-media file is, from its first bytes."""
    if not head:
        return "The file is empty."
    lowered = head.lstrip().lower()
    if head.startswith(b"MZ"):
        return "This is a Windows program, not media."
    if head.startswith(b"\x7fELF"):
        return "This is a Linux program, not media."
    if head.startswith((b"\xfe\xed\xfa", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")):
        return "This is a macOS program, not media."
    if head.startswith(b"#!"):
        return "This is a script, not media."
    if lowered.startswith(b"<svg") or (lowered.startswith(b"<?xml") and b"<svg" in lowered):
        return "This is an SVG drawing (which can carry scripts); upload a JPG, PNG, GIF or WebP instead."
    if lowered.startswith(b"<!doctype svg"):
        return "This is an SVG drawing (which can carry scripts); upload a JPG, PNG, GIF or WebP instead."
    if lowered.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<iframe", b"<!--")):
        return "This is a web page (HTML), not media."
    if lowered.startswith(b"<?php"):
        return "This is a PHP script, not media."
    if head.startswith(b"%PDF"):
        return "This is a PDF document, not media."
    if head.startswith(b"PK\x03\x04"):
        return "This is a ZIP archive (or an Office document), not media."
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if b"\x00" not in head:
        return "This is a text file, not media."
    return None


def probe_image(path):
    from PIL import Image

    # Opening reads only the header; the size is checked here, before anything is decoded,
    # so the message can name it. Pillow's own bomb check stays on for decoding.
    Image.MAX_IMAGE_PIXELS = None
    try:
        with Image.open(path) as image:
            fmt = image.format
            width, height = image.size
            if fmt not in IMAGE_FORMATS:
                return {"error": f"This is a {fmt} image; use JPG, PNG, GIF or WebP."}
            if width * height > MAX_IMAGE_PIXELS:
                return {
                    "error": f"The image claims {width}x{height} pixels, over the 40 megapixel limit: "
                    "that is a decompression bomb, not a portrait."
                }
            Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
            image.load()  # decodes everything: catches truncated files
    except Image.DecompressionBombError:
        return {"error": "The image is too large in pixels to be a portrait (over 40 megapixels)."}
    except (OSError, SyntaxError, ValueError):
        return None
    extension, content_type = IMAGE_FORMATS[fmt]
    return {
        "kind": "image",
        "extension": extension,
        "content_type": content_type,
        "container": fmt.lower(),
        "width": width,
        "height": height,
    }


def probe_av(path):
    import av

    try:
        container = av.open(path, options={"protocol_whitelist": "file"})
    except (av.FFmpegError, ValueError, UnicodeDecodeError):
        return None
    with container:
        name = container.format.name
        if name.endswith("_pipe") or name == "image2":
            return None  # stills are Pillow's to judge (with its pixel limit)
        video = container.streams.video[0] if container.streams.video else None
        audio = container.streams.audio[0] if container.streams.audio else None
        # Cover art in an audio file is an attached picture, not a video.
        if video is not None and video.disposition & av.stream.Disposition.attached_pic:
            video = None
        if video is None and audio is None:
            return {"error": "The file holds no video or audio stream."}
        kind = "video" if video is not None else "audio"
        if kind == "video" and name not in VIDEO_CONTAINERS:
            return {"error": f"The video container ({name}) is not supported; use MP4, MOV, AVI, WebM or MKV."}
        if kind == "audio" and name not in AUDIO_CONTAINERS:
            return {"error": f"The audio format ({name}) is not supported; use MP3, WAV, M4A or AAC."}
        # One frame of each stream must decode. Each stream is read on its own: a file whose
        # audio comes after all its video (not interleaved) would otherwise have every
        # video frame decoded before the first audio one.
        decoded = {"video": video is None, "audio": audio is None}
        for kind_of_stream, stream in (("video", video), ("audio", audio)):
            if stream is not None:
                decoded[kind_of_stream] = first_frame_decodes(container, stream)
        if not all(decoded.values()):
            return {"error": "The file is damaged or truncated: its streams could not be decoded."}
        header = None
        if container.duration is not None:
            header = container.duration / av.time_base
        for stream in (video, audio):
            if header is None and stream is not None and stream.duration is not None and stream.time_base:
                header = float(stream.duration * stream.time_base)
        # Pricing and route limits follow what plays, not what the header claims.
        measured = measure_seconds(
            path, video_index=video.index if video else None, audio_index=audio.index if audio else None
        )
        if header is not None and measured is not None and header_is_a_claim(path, name):
            tolerance = max(0.25, 2 * frame_seconds(video, audio))
            if abs(header - measured) > tolerance:
                return {
                    "error": f"The file's header says it lasts {header:.1f} s, but it plays for {measured:.1f} s. "
                    "Export it again from your editor and upload the new file."
                }
        duration = measured if measured is not None else header
        facts = {"kind": kind, "container": name, "duration_seconds": duration}
        if video is not None:
            ctx = video.codec_context
            rate = video.average_rate or video.guessed_rate
            facts.update(
                video_codec=ctx.name if ctx else "",
                width=ctx.width if ctx else None,
                height=ctx.height if ctx else None,
                frame_rate=float(rate) if rate else None,
            )
        if audio is not None:
            ctx = audio.codec_context
            facts.update(
                audio_codec=ctx.name if ctx else "",
                sample_rate=ctx.sample_rate if ctx else None,
                channels=ctx.channels if ctx else None,
            )
        facts["extension"], facts["content_type"] = container_identity(name, kind, facts, container.metadata)
        return facts


def measure_seconds(path, *, video_index, audio_index):
    """How long the content plays: an audio-only file by decoding it (samples / rate,
    whatever its header or timestamps say); a video by the timestamps of every packet of
    its streams (decoding every picture would cost seconds per minute of video). None when
    nothing could be measured."""
    import av

    try:
        with av.open(path, options={"protocol_whitelist": "file"}) as container:
            if video_index is None and audio_index is not None:
                samples, rate = 0, 0
                for frame in container.decode(container.streams[audio_index]):
                    samples += frame.samples
                    rate = frame.sample_rate or rate
                return samples / rate if rate and samples else None
            streams = [container.streams[index] for index in (video_index, audio_index) if index is not None]
            # Each stream's first and last timestamp in its own time base (integers: a few
            # thousand packets per minute, and fractions per packet would cost more than
            # reading them), converted once at the end.
            spans = {}
            for packet in container.demux(*streams):
                pts = packet.pts
                if pts is None:
                    continue
                ends = pts + (packet.duration or 0)
                span = spans.get(packet.stream_index)
                if span is None:
                    spans[packet.stream_index] = [pts, ends]
                else:
                    if pts < span[0]:
                        span[0] = pts
                    if ends > span[1]:
                        span[1] = ends
            bases = {stream.index: stream.time_base for stream in streams}
            times = [
                (float(first * bases[index]), float(last * bases[index]))
                for index, (first, last) in spans.items()
                if bases.get(index)
            ]
            if not times:
                return None
            start, end = min(first for first, _ in times), max(last for _, last in times)
            if end <= start:
                return None
            return end - start
    except (av.FFmpegError, ValueError, OSError):
        return None


def frame_seconds(video, audio) -> float:
    """The longest frame of the streams: video 1/fps, audio one codec frame."""
    longest = 0.0
    if video is not None:
        rate = video.average_rate or video.guessed_rate
        if rate:
            longest = max(longest, 1 / float(rate))
    if audio is not None and audio.codec_context is not None:
        ctx = audio.codec_context
        if ctx.sample_rate and ctx.frame_size:
            longest = max(longest, ctx.frame_size / ctx.sample_rate)
    return longest


# An MP3's duration is a claim only when it carries a frame count (a Xing, Info or VBRI
# tag); without one, and for raw ADTS AAC which has no header at all, FFmpeg estimates it
# from the bit rate, which a VBR file legitimately gets wrong: the measured length is used.
MP3_TAGS = (b"Xing", b"Info", b"VBRI")
ESTIMATED_ONLY = {"aac"}


def header_is_a_claim(path, container_name) -> bool:
    if container_name in ESTIMATED_ONLY:
        return False
    if container_name != "mp3":
        return True
    with open(path, "rb") as fh:
        head = fh.read(16 * 1024)
    offset = 0
    if head.startswith(b"ID3") and len(head) >= 10:
        # ID3v2 size: four 7-bit bytes, plus the 10-byte header.
        size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
        offset = 10 + size
        with open(path, "rb") as fh:
            fh.seek(offset)
            head = fh.read(4096)
        offset = 0
    first_frame = head[offset : offset + 2048]
    return any(tag in first_frame for tag in MP3_TAGS)


def first_frame_decodes(container, stream) -> bool:
    import contextlib

    import av

    with contextlib.suppress(av.FFmpegError, ValueError):  # not seekable: read from where we are
        container.seek(0, stream=stream)
    try:
        for packet in container.demux(stream):
            for _frame in packet.decode():
                return True
    except (av.FFmpegError, ValueError):
        return False
    return False


def container_identity(name, kind, facts, metadata):
    if name == "avi":
        return ".avi", "video/x-msvideo"
    if name == "matroska,webm":
        webm = facts.get("video_codec") in {"vp8", "vp9", "av1"} and facts.get("audio_codec", "opus") in {
            "opus",
            "vorbis",
            "",
        }
        return (".webm", "video/webm") if webm else (".mkv", "video/x-matroska")
    if name == "mp3":
        return ".mp3", "audio/mpeg"
    if name == "wav":
        return ".wav", "audio/wav"
    if name == "aac":
        return ".aac", "audio/aac"
    if kind == "audio":
        return ".m4a", "audio/mp4"
    if (metadata.get("major_brand") or "").strip() == "qt":
        return ".mov", "video/quicktime"
    return ".mp4", "video/mp4"


# Signatures of the formats we accept: a file that starts like one of them but cannot be
# read is damaged or cut short, and the user should hear exactly that.
SIGNATURES = (
    (lambda head: head[4:8] == b"ftyp", "an MP4, MOV or M4A file"),
    (lambda head: head.startswith(b"\x89PNG\r\n\x1a\n"), "a PNG image"),
    (lambda head: head.startswith(b"\xff\xd8\xff"), "a JPEG image"),
    (lambda head: head.startswith((b"GIF87a", b"GIF89a")), "a GIF image"),
    (lambda head: head.startswith(b"RIFF") and head[8:12] == b"WEBP", "a WebP image"),
    (lambda head: head.startswith(b"RIFF") and head[8:12] == b"WAVE", "a WAV file"),
    (lambda head: head.startswith(b"RIFF") and head[8:12] == b"AVI ", "an AVI video"),
    (lambda head: head.startswith(b"\x1a\x45\xdf\xa3"), "a WebM or MKV video"),
    (lambda head: head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"), "an MP3 file"),
)


def looks_like_image(head: bytes) -> bool:
    return (
        head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a"))
        or (head.startswith(b"RIFF") and head[8:12] == b"WEBP")
        or head[:2] in (b"BM", b"II", b"MM")
    )


def limit_resources():
    import resource

    # A hostile file may try to exhaust memory; the parent's deadline covers time.
    resource.setrlimit(resource.RLIMIT_AS, (4 * 1024**3, 4 * 1024**3))


def main(path):
    limit_resources()
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    found = sniff(head)
    if found:
        return {"error": found}
    # Pillow first for what starts like a still, FFmpeg first for everything else (a video
    # never pays for importing Pillow).
    readers = (probe_image, probe_av) if looks_like_image(head) else (probe_av, probe_image)
    for reader in readers:
        facts = reader(path)
        if facts is not None:
            return facts
    for matches, name in SIGNATURES:
        if matches(head):
            return {"error": f"This looks like {name}, but it is damaged or truncated and cannot be read."}
    return {"error": "This file is not a video, audio file or image we can read (or it is damaged)."}


def run(argv):
    """``PATH [--analyse] [--poster OUT]``: one JSON line of facts; with ``--analyse``, a
    second line with what analysis_worker finds. The facts are flushed first, so a crash
    or a timeout during the analysis still leaves the file identified."""
    path = argv[0]
    facts = main(path)
    sys.stdout.write(json.dumps(facts) + "\n")
    sys.stdout.flush()
    if "--analyse" in argv and "error" not in facts:
        from lipsync_site.media import analysis_worker

        poster = argv[argv.index("--poster") + 1] if "--poster" in argv and facts["kind"] == "video" else None
        sys.stdout.write(json.dumps(analysis_worker.analyse_kind(path, facts["kind"], poster)) + "\n")


if __name__ == "__main__":
    run(sys.argv[1:])
