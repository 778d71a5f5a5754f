"""An upload handler that streams to a temporary file and stops past the size cap.

Django has no cap on the size of an uploaded file; this handler enforces
``MEDIA_UPLOAD_MAX_BYTES`` while the bytes arrive, so an oversize upload is cut off
without ever landing whole on disk.
"""

from django.conf import settings
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler


class UploadTooLarge(StopUpload):
    pass


class CappedTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    def __init__(self, request=None):
        super().__init__(request)
        self.received = 0
        self.cap = settings.MEDIA_UPLOAD_MAX_BYTES

    def new_file(self, *args, **kwargs):
        self.received = 0
        super().new_file(*args, **kwargs)

    def upload_complete(self):
        # A client that disconnects mid-upload looks, to some servers (runserver's
        # wsgiref), like a body that simply ended: the parser would hand over a cut-off
        # file as if it were whole. The body stream says how much of the declared length
        # actually arrived; anything short means the upload was interrupted.
        stream = getattr(self.request, "_stream", None)
        received, declared = getattr(stream, "_pos", None), getattr(stream, "limit", None)
        if self.request is not None and received is not None and declared is not None and received < declared:
            # Nothing is stored from this request; its temporary files go when it ends.
            self.request.upload_interrupted = True
        return super().upload_complete()

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.cap:
            self.file.close()  # deletes the temporary file
            if self.request is not None:
                self.request.upload_too_large = True
            raise UploadTooLarge(connection_reset=True)
        return super().receive_data_chunk(raw_data, start)
