"""The local draft provider: runs in the worker, on this machine, with no network or key.

Its request is a directory under ``VAR_DIR/local_engine/<request id>``. ``submit`` renders
synchronously (the worker task is the engine's process) and records the outcome in
``result.json``, so ``poll`` and ``outputs`` answer from disk like a remote provider would
from its API.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

from django.conf import settings

from lipsync_site.media.render import RenderError
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

    @property
    def root(self) -> Path:
        return Path(settings.VAR_DIR) / "local_engine"

    def _request_dir(self, request_id: str) -> Path:
        # The id is ours (a UUID); refuse anything else so it can never escape the root.
        try:
            uuid.UUID(request_id)
        except ValueError:
            raise NotFound(f"unknown local request {request_id!r}") from None
        return self.root / request_id

    def submit(self, route: Route, inputs: SubmitInputs, options: SubmitOptions) -> str:
        if inputs.audio is None or inputs.audio.path is None:
            raise InputRejected("The local draft engine needs a voice audio track.")
        if inputs.video is None and inputs.image is None:
            raise InputRejected(
                "The local draft engine needs a source video or a portrait; scripts need a cloud route."
            )
        request_id = str(uuid.uuid4())
        workdir = self._request_dir(request_id)
        workdir.mkdir(parents=True)
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
            self._write_result(workdir, {"state": RequestState.FAILED, "message": str(exc)})
        else:
            self._write_result(
                workdir,
                {
                    "state": RequestState.SUCCEEDED,
                    "message": result.note,
                    "frames": result.frames,
                    "frames_with_face": result.frames_with_face,
                },
            )
        return request_id

    def _write_result(self, workdir: Path, result: dict) -> None:
        (workdir / "result.json").write_text(json.dumps(result))

    def _read_result(self, request_id: str) -> dict:
        path = self._request_dir(request_id) / "result.json"
        try:
            return json.loads(path.read_text())
        except FileNotFoundError:
            raise NotFound(f"unknown local request {request_id!r}") from None

    def poll(self, request_id: str) -> PollResult:
        result = self._read_result(request_id)
        return PollResult(state=RequestState(result["state"]), progress=1.0, message=result["message"], payload=result)

    def outputs(self, request_id: str) -> list[ProviderOutput]:
        if self.poll(request_id).state != RequestState.SUCCEEDED:
            return []
        return [ProviderOutput(url=(self._request_dir(request_id) / "output.mp4").as_uri(), kind="video")]

    def cancel(self, request_id: str) -> bool:
        # Rendering happens inside submit: by the time anyone can cancel, it is done.
        return False

    def download(self, output: ProviderOutput, destination: Path, *, max_bytes: int) -> int:
        source = Path(output.url.removeprefix("file://"))
        if self.root.resolve() not in source.resolve().parents:
            raise NotFound("local output outside the engine's directory")
        size = source.stat().st_size
        if size > max_bytes:
            raise InputRejected(f"output is {size} bytes, over the {max_bytes} byte cap")
        # The request directory stays: a collect retried after a crash must find it again.
        shutil.copyfile(source, destination)
        return size
