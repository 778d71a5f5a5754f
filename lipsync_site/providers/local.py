"""The local draft provider: runs in the worker, on this machine, with no network or key.

``submit`` renders synchronously (the worker task is the engine's process) in a scratch
directory of this machine, then stores the output and ``result.json`` under
``local_engine/<request id>/`` in the media storage, so ``poll``, ``outputs`` and
``download`` answer from any machine (the collect task may run on another worker than the
render) like a remote provider would from its API.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from lipsync_site.media.render import RenderError
from lipsync_site.media.scratch import scratch_dir
from lipsync_site.providers.base import (
    InputRejected,
    NotFound,
    PollResult,
    ProviderOutput,
    RequestState,
    SubmitInputs,
    SubmitOptions,
)
from lipsync_site.providers.catalog import Route
from lipsync_site.providers.local_engine import pipeline


class LocalDraftProvider:
    name = "local"

    def _request_prefix(self, request_id: str) -> str:
        # The id is ours (a UUID); refuse anything else so it can never escape the prefix.
        try:
            return f"local_engine/{uuid.UUID(request_id)}"
        except ValueError:
            raise NotFound(f"unknown local request {request_id!r}") from None

    def submit(self, route: Route, inputs: SubmitInputs, options: SubmitOptions) -> str:
        if inputs.audio is None or inputs.audio.path is None:
            raise InputRejected("The local draft engine needs a voice audio track.")
        if inputs.video is None and inputs.image is None:
            raise InputRejected(
                "The local draft engine needs a source video or a portrait; scripts need a cloud route."
            )
        request_id = str(uuid.uuid4())
        prefix = self._request_prefix(request_id)
        with scratch_dir() as workdir:
            output = workdir / "output.mp4"
            try:
                if inputs.video is not None:
                    result = pipeline.resync_video(
                        inputs.video.path,
                        inputs.audio.path,
                        output,
                        mode=options.mismatch_mode,
                        speaker=options.speaker_box,
                        on_progress=options.on_progress,
                    )
                else:
                    result = pipeline.talking_head(
                        inputs.image.path,
                        inputs.audio.path,
                        output,
                        speaker=options.speaker_box,
                        on_progress=options.on_progress,
                    )
            except RenderError as exc:
                outcome = {"state": RequestState.FAILED, "message": str(exc)}
            else:
                with open(output, "rb") as rendered:
                    default_storage.save(f"{prefix}/output.mp4", File(rendered))
                outcome = {
                    "state": RequestState.SUCCEEDED,
                    "message": result.note,
                    "frames": result.frames,
                    "frames_with_face": result.frames_with_face,
                }
        # Written last: its presence says the request is finished.
        default_storage.save(f"{prefix}/result.json", ContentFile(json.dumps(outcome).encode()))
        return request_id

    def _read_result(self, request_id: str) -> dict:
        name = f"{self._request_prefix(request_id)}/result.json"
        if not default_storage.exists(name):
            raise NotFound(f"unknown local request {request_id!r}")
        with default_storage.open(name, "rb") as fh:
            return json.loads(fh.read())

    def poll(self, request_id: str) -> PollResult:
        result = self._read_result(request_id)
        return PollResult(state=RequestState(result["state"]), progress=1.0, message=result["message"], payload=result)

    def outputs(self, request_id: str) -> list[ProviderOutput]:
        if self.poll(request_id).state != RequestState.SUCCEEDED:
            return []
        return [ProviderOutput(url=f"storage:{self._request_prefix(request_id)}/output.mp4", kind="video")]

    def cancel(self, request_id: str) -> bool:
        # Rendering happens inside submit: by the time anyone can cancel, it is done.
        return False

    def download(self, output: ProviderOutput, destination: Path, *, max_bytes: int) -> int:
        name = output.url.removeprefix("storage:")
        parts = name.split("/")
        if len(parts) != 3 or parts[2] != "output.mp4" or self._request_prefix(parts[1]) != f"{parts[0]}/{parts[1]}":
            raise NotFound("local output outside the engine's prefix")
        try:
            size = default_storage.size(name)
        except FileNotFoundError:
            raise NotFound(f"local output {name!r} is gone") from None
        if size > max_bytes:
            raise InputRejected(f"output is {size} bytes, over the {max_bytes} byte cap")
        # The stored output stays: a collect retried after a crash must find it again.
        with default_storage.open(name, "rb") as source, open(destination, "wb") as sink:
            shutil.copyfileobj(source, sink, 1024 * 1024)
        return size
