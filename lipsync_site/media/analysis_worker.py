"""Runs in its own process (see analysis.py): looks inside a probed file for what preflight
needs, and prints one JSON object.

- images and videos: faces found by dlib's HOG detector (see ``media.faces``), on the
  portrait or on frames sampled across the video, as boxes relative to the frame, one per
  face (overlapping detections merged); the faces of the poster picture, numbered left to
  right (``speakers``), for the user to choose who speaks; for videos, a JPEG poster frame
  (the sampled frame showing the most faces) written to the path given after ``--poster``.
- audio: level and clipping statistics over the first minutes of the track.

The file has already been identified by the probe; this process still opens it with
``protocol_whitelist=file`` and is killed by its parent past a deadline.
"""

import json
import math
import sys

SAMPLED_FRAMES = 6
AUDIO_RATE = 16_000
AUDIO_MAX_SECONDS = 600  # a ten-minute sample says enough about levels
WINDOW = 800  # 50 ms at 16 kHz
ACTIVE_WINDOW_RMS = 10 ** (-45 / 20)  # a window louder than -45 dBFS counts as sound
CLIP_LEVEL = 0.99
POSTER_WIDTH = 640
WAVEFORM_BARS = 160  # the form draws the voice's loudness as this many bars


def limit_resources():
    import resource

    # A hostile file may try to exhaust memory; the parent's deadline covers time.
    resource.setrlimit(resource.RLIMIT_AS, (4 * 1024**3, 4 * 1024**3))


def detect_faces(gray):
    """Faces in a grayscale image as [x, y, w, h] fractions of the image size, left to
    right, overlapping detections merged."""
    from lipsync_site.media.faces import find_faces

    height, width = gray.shape[:2]
    faces = sorted(find_faces(gray), key=lambda face: face.box.centre[0])
    return [face.box.fractions(width, height) for face in faces]


def speakers(faces):
    """The faces of the poster picture with the numbers the form shows (1 = leftmost)."""
    return [{"index": number, "box": box} for number, box in enumerate(faces, start=1)]


def analyse_image(path):
    import numpy as np
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = 40_000_000
    with Image.open(path) as image:
        image.seek(0)
        gray = np.asarray(image.convert("L"))
    faces = detect_faces(gray)
    return {"faces": [faces], "speakers": speakers(faces)}


def save_poster(frame, poster_path):
    import cv2

    width = min(frame.width, POSTER_WIDTH)
    height = max(2, round(frame.height * width / frame.width))
    # Scaled by FFmpeg's scaler while converting, encoded by OpenCV (already loaded for the
    # faces): a video's check never imports Pillow.
    bgr = frame.reformat(width=width, height=height, format="bgr24").to_ndarray()
    ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if ok:
        with open(poster_path, "wb") as out:
            out.write(jpeg.tobytes())


def gray_for_detection(frame):
    """The frame in grey, at most twice the detector's working width: the detector scales
    it down to that width anyway, and a weak detection is looked at again closer, for which
    twice is plenty. Scaling while converting saves a full-size copy of a 4K frame."""
    from lipsync_site.media.faces import DETECT_WIDTH

    limit = 2 * DETECT_WIDTH
    if frame.width > limit:
        height = max(2, round(frame.height * limit / frame.width))
        return frame.reformat(width=limit, height=height, format="gray").to_ndarray()
    return frame.to_ndarray(format="gray")


def sample_frames(container, stream, count):
    """Up to ``count`` distinct frames spread across the video.

    Each sample is the first frame the decoder gives after seeking to its point: the
    keyframe at or before it. Decoding forward to the exact time would decode most of the
    file (a 30 s clip with a keyframe every 10 s: hundreds of frames for six samples);
    for finding faces any nearby frame will do. Non-key frames are skipped by the decoder,
    and it may use several threads within a frame (threads across frames only add work
    here: every sample is one frame decoded alone after a seek).
    """
    codec = stream.codec_context
    codec.thread_type = "SLICE"
    codec.skip_frame = "NONKEY"
    duration = None
    if stream.duration is not None and stream.time_base:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / 1_000_000
    if not duration or duration <= 0:
        for frame in container.decode(stream):
            yield frame
            return
        return
    seen = set()
    for index in range(count):
        target = duration * (index + 0.5) / count
        try:
            container.seek(int(target / stream.time_base), stream=stream, backward=True)
            codec.flush_buffers()
            frame = next(container.decode(stream), None)
        except Exception:  # noqa: S112 (a frame we cannot reach is simply not sampled)
            continue
        if frame is None or frame.pts in seen:
            continue  # two points share a keyframe: one sample of it is enough
        seen.add(frame.pts)
        yield frame


def analyse_video(path, poster_path):
    import av

    from lipsync_site.media.faces import FaceSearch

    frames, searches = [], []
    with av.open(path, options={"protocol_whitelist": "file"}) as container:
        stream = container.streams.video[0]
        for frame in sample_frames(container, stream, SAMPLED_FRAMES):
            frames.append(frame)
            searches.append(FaceSearch(gray_for_detection(frame)))
        faces = faces_across(searches)
        poster, poster_faces, poster_time = None, None, None
        for frame, found in zip(frames, faces, strict=True):
            # The poster is the first sampled frame showing the most faces: every face the
            # user may choose as the speaker is in it.
            if poster is None or len(found) > len(poster_faces):
                poster, poster_faces, poster_time = frame, found, frame.time
        if poster is not None and poster_path:
            save_poster(poster, poster_path)
    analysis = {"faces": faces, "speakers": speakers(poster_faces or [])}
    if poster_time is not None:
        analysis["poster_seconds"] = round(float(poster_time), 3)
    return analysis


def faces_across(searches):
    """Each sampled frame's faces (as ``detect_faces`` gives them), the costly looks only
    where they can matter.

    Every frame has the plain HOG pass. The upsampled pass for small faces and Haar's
    second opinion (four and two times its work) are taken on one frame first: the one
    with the most faces (the poster candidate), or the middle sample when the plain pass
    found no face anywhere. If they find anything there that the plain pass did not, the
    video has small or hard-to-read faces and every frame gets them; otherwise only the
    frames with no face of their own do, when another frame shows one (a face out of view
    at times is told apart from one the plain pass missed).
    """
    if not searches:
        return []
    plain = [search.faces(second_opinion=False) for search in searches]
    most = max(len(found) for found in plain)
    candidate = next(index for index, found in enumerate(plain) if len(found) == most) if most else len(plain) // 2
    searches[candidate].look_for_small_faces()
    found_at = {candidate: searches[candidate].faces()}
    everywhere = found_at[candidate] != plain[candidate]
    for index, search in enumerate(searches):
        if index in found_at:
            continue
        if everywhere or (most and not plain[index]):
            search.look_for_small_faces()
            found_at[index] = search.faces()
        else:
            found_at[index] = plain[index]
    result = []
    for index, search in enumerate(searches):
        height, width = search.gray.shape[:2]
        ordered = sorted(found_at[index], key=lambda face: face.box.centre[0])
        result.append([face.box.fractions(width, height) for face in ordered])
    return result


def analyse_audio(path):
    import av
    import numpy as np

    peak, squares, count, clipped = 0.0, 0.0, 0, 0
    windows, active = 0, 0
    loudness = []  # each 50 ms window's RMS, for the waveform
    pending = np.zeros(0, dtype=np.float32)
    with av.open(path, options={"protocol_whitelist": "file"}) as container:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=AUDIO_RATE)
        for frame in container.decode(stream):
            # Clipping is judged on the original samples: resampling smooths the edges.
            raw = frame.to_ndarray()
            if raw.dtype.kind == "i":
                raw = raw.astype(np.float32) / float(np.iinfo(raw.dtype).max)
            clipped += int(np.count_nonzero(np.abs(raw) >= CLIP_LEVEL) / max(1, frame.layout.nb_channels))
            for mono in resampler.resample(frame):
                samples = mono.to_ndarray().reshape(-1).astype(np.float32)
                peak = max(peak, float(np.max(np.abs(samples), initial=0.0)))
                squares += float(np.dot(samples, samples))
                count += samples.size
                pending = np.concatenate([pending, samples])
                usable = pending.size - pending.size % WINDOW
                if usable:
                    rms = np.sqrt(np.mean(pending[:usable].reshape(-1, WINDOW) ** 2, axis=1))
                    loudness.extend(rms.tolist())
                    windows += rms.size
                    active += int(np.count_nonzero(rms > ACTIVE_WINDOW_RMS))
                    pending = pending[usable:]
            if count >= AUDIO_MAX_SECONDS * AUDIO_RATE:
                break
    rms = math.sqrt(squares / count) if count else 0.0
    original_samples = count * (stream.sample_rate or AUDIO_RATE) / AUDIO_RATE
    return {
        "audio": {
            "peak": round(peak, 5),
            "rms_dbfs": round(20 * math.log10(rms), 2) if rms > 0 else -120.0,
            "active_fraction": round(active / windows, 4) if windows else 0.0,
            "clipped_fraction": round(clipped / original_samples, 6) if original_samples else 0.0,
            "analysed_seconds": round(count / AUDIO_RATE, 2),
        },
        "waveform": waveform(loudness),
    }


def waveform(loudness, bars=WAVEFORM_BARS):
    """The loudest window of each of ``bars`` stretches of the recording, from 0 to 1."""
    if not loudness:
        return []
    size = max(1, math.ceil(len(loudness) / bars))
    buckets = [max(loudness[start : start + size]) for start in range(0, len(loudness), size)]
    top = max(buckets) or 1.0
    return [round(value / top, 3) for value in buckets]


def main(argv):
    path, kind = argv[0], argv[1]
    poster_path = argv[3] if len(argv) > 3 and argv[2] == "--poster" else None
    limit_resources()
    return analyse_kind(path, kind, poster_path)


def analyse_kind(path, kind, poster_path=None):
    if kind == "image":
        return analyse_image(path)
    if kind == "video":
        return analyse_video(path, poster_path)
    if kind == "audio":
        return analyse_audio(path)
    return {}


if __name__ == "__main__":
    sys.stdout.write(json.dumps(main(sys.argv[1:])))
