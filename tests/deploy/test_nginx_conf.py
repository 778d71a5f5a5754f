"""deploy/nginx.conf is a template for envsubst with the variable list its head gives: the
rendering the proxy tests run is exactly what that command makes."""

import os
import re
import subprocess

from tests.webstack import TEMPLATE, render_nginx_conf

VALUES = {
    "LIPSYNC_NGINX_USER": "www-data",
    "LIPSYNC_RUN_DIR": "/run/lipsync-nginx",
    "LIPSYNC_LOG_DIR": "/var/log/nginx",
    "LIPSYNC_LISTEN": "80",
    "LIPSYNC_UPSTREAM": "127.0.0.1:8000",
    "LIPSYNC_MEDIA_ROOT": "/srv/lipsync/media",
    "LIPSYNC_UPLOAD_MAX": "1100m",
}


def test_envsubst_with_the_documented_list_renders_what_the_tests_run():
    text = TEMPLATE.read_text()
    documented = re.search(r"envsubst '([^']+)'", text.replace("\n#", " ")).group(1)
    names = sorted(name.lstrip("$") for name in documented.split())
    assert names == sorted(VALUES), "the head of deploy/nginx.conf must list every ${LIPSYNC_*} it uses"
    rendered = subprocess.run(
        ["envsubst", documented], input=text, capture_output=True, text=True, check=True, env={**os.environ, **VALUES}
    ).stdout
    assert rendered == render_nginx_conf(VALUES)
    assert "$host" in rendered and "${LIPSYNC" not in rendered  # nginx's own variables are left alone
