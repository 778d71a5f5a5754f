"""Reads over media that more than one page needs."""

from __future__ import annotations

from dataclasses import dataclass

from lipsync_site.media.models import Asset


@dataclass(frozen=True)
class SpeakerFace:
    """A face the user may choose as the one who speaks.

    ``index`` is the number to show (1 is the leftmost face); ``x``, ``y``, ``width`` and
    ``height`` place its outline on the poster image in that image's pixels; ``box`` is
    the same face as fractions of the frame, which is what a job keeps and what
    ``SubmitOptions.speaker_box`` carries to the provider.
    """

    index: int
    x: int
    y: int
    width: int
    height: int
    box: tuple[float, float, float, float]

    @property
    def percent(self) -> dict[str, float]:
        """left/top/width/height in percent of the poster: for CSS outlines that scale
        with the image (``style="left: {{ face.percent.left }}%"``...)."""
        x, y, w, h = self.box
        return {"left": x * 100, "top": y * 100, "width": w * 100, "height": h * 100}


def _overlap(a, b) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _poster_boxes(analysis: dict) -> list[list[float]]:
    if "speakers" in analysis:
        return [speaker["box"] for speaker in sorted(analysis["speakers"], key=lambda speaker: speaker["index"])]
    # Analysed before speakers were recorded: the poster was the first sampled frame with
    # a face, its boxes ranked by confidence and possibly overlapping.
    for faces in analysis.get("faces") or []:
        if faces:
            kept = []
            for box in faces:
                if all(_overlap(box, other) <= 0.25 for other in kept):
                    kept.append(box)
            return sorted(kept, key=lambda box: box[0] + box[2] / 2)
    return []


def speaker_faces(asset: Asset) -> list[SpeakerFace]:
    """The faces to offer as the speaker for a video or a portrait, numbered left to right,
    placed on its poster (a video's poster frame, or the portrait itself).

    Show the choice only when there are two or more; with one, that face speaks. Pass the
    chosen face's ``box`` on as the job's speaker. A video without a stored poster, or an
    asset that could not be analysed, has none.

        faces = speaker_faces(video)
        poster = video.poster  # the image the x/y/width/height refer to
        for face in faces:  # outline face.x, face.y, face.width, face.height; label face.index
            ...
    """
    poster = asset if asset.kind == Asset.Kind.IMAGE else asset.poster
    if poster is None or not poster.width or not poster.height:
        return []
    faces = []
    for number, box in enumerate(_poster_boxes(asset.analysis or {}), start=1):
        x, y, w, h = (float(value) for value in box)
        faces.append(
            SpeakerFace(
                index=number,
                x=round(x * poster.width),
                y=round(y * poster.height),
                width=round(w * poster.width),
                height=round(h * poster.height),
                box=(x, y, w, h),
            )
        )
    return faces


def speaker_box(asset: Asset, index: int | None) -> tuple[float, float, float, float] | None:
    """The box of face number ``index`` of ``speaker_faces(asset)``, or None (no choice,
    or a number that is not there)."""
    if index is None:
        return None
    for face in speaker_faces(asset):
        if face.index == index:
            return face.box
    return None
