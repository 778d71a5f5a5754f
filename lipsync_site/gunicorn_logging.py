"""gunicorn's access log without whole link tokens (``logger_class`` in gunicorn.conf.py).

Providers fetch our inputs through ``/jobs/inputs/<signed token>/...``; a token in a log
file is a working link for an hour. The access log keeps a prefix of it, like every other
log line (``redaction.shorten_link_tokens``).
"""

from gunicorn.glogging import Logger

from lipsync_site.redaction import redact_text

# The atoms of gunicorn's access-log format that carry the path or the query.
_PATH_ATOMS = ("r", "U", "q", "f", "{raw_uri}e")


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in _PATH_ATOMS:
            if isinstance(atoms.get(key), str):
                atoms[key] = redact_text(atoms[key])
        return atoms
