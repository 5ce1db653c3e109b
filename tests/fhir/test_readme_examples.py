"""The README's example calls work: every `curl` in the "Interoperability" section's shell
block is parsed and made, in order, against the application (Django's test client), with the
values each answer gives (the token, the person's id, the export's status and file URLs)."""

from __future__ import annotations

import base64
import re
import shlex
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from pod.fhir.clients import api_client_create
from tests import factories as f

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_curls() -> list[str]:
    text = README.read_text()
    section = text.split("## Interoperability", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    commands = []
    for block in blocks:
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip().startswith("curl "):
                commands.append(line.strip())
    return commands


def _expand(word: str, values: dict[str, str]) -> str:
    word = word.replace("\\$", "\0")
    word = re.sub(r"\$(\w+)", lambda m: values[m.group(1)], word)
    return word.replace("\0", "$")


def run_curl(client, command: str, values: dict[str, str]):
    """Make one curl call with Django's test client; the options the README uses only."""
    words = [_expand(w, values) for w in shlex.split(command)[1:]]
    method, headers, data, encoded, url = "GET", {}, [], [], None
    i = 0
    while i < len(words):
        word = words[i]
        if word in ("-s", "-i", "-si"):
            pass
        elif word == "-X":
            method, i = words[i + 1], i + 1
        elif word == "-H":
            name, _, value = words[i + 1].partition(":")
            headers["HTTP_" + name.strip().upper().replace("-", "_")] = value.strip()
            i += 1
        elif word == "-u":
            headers["HTTP_AUTHORIZATION"] = (
                "Basic " + base64.b64encode(words[i + 1].encode()).decode()
            )
            i += 1
        elif word == "-d":
            data.append(tuple(words[i + 1].split("=", 1)))
            i += 1
        elif word == "--data-urlencode":
            encoded.append(tuple(words[i + 1].split("=", 1)))
            i += 1
        elif word.startswith("http"):
            url = word
        else:
            raise AssertionError(f"the README uses a curl option this test does not know: {word}")
        i += 1
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if data or encoded:
        body = urlencode([*data, *encoded])
        return client.post(path, body, content_type="application/x-www-form-urlencoded", **headers)
    return client.generic(method, path, **headers)


def test_the_readme_has_the_calls_it_promises():
    commands = " ".join(readme_curls())
    for needed in (
        "/fhir/auth/token",
        "/fhir/metadata",
        "Patient/_search",
        "$export",
        "STATUS_URL",
    ):
        assert needed in commands


def test_every_readme_example_call_works(
    client,
    team,
    episode,
    service_user,
    clinician,
    django_capture_on_commit_callbacks,
    settings,
    tmp_path,
):
    settings.POD_FHIR_EXPORT_DIR = tmp_path
    service_user.nhs_number = "9434765919"
    service_user.save()
    f.make_member(service_user)
    api_client, secret = api_client_create(name="Trust EPR", role="clinician", teams=[team])
    values = {
        "POD": "http://testserver",
        "CLIENT_ID": api_client.application.client_id,
        "CLIENT_SECRET": secret,
    }
    statuses = []
    for command in readme_curls():
        with django_capture_on_commit_callbacks(execute=True):
            response = run_curl(client, command, values)
        assert 200 <= response.status_code < 300, (command, response.content[:500])
        statuses.append(response.status_code)
        if "/auth/token" in command:
            values["TOKEN"] = response.json()["access_token"]
        elif "Patient/_search" in command:
            values["PATIENT_ID"] = response.json()["entry"][0]["resource"]["id"]
            assert values["PATIENT_ID"] == str(service_user.pk)
        elif "$export" in command:
            values["STATUS_URL"] = response["Content-Location"]
        elif "STATUS_URL" in command and "DELETE" not in command:
            values["FILE_URL"] = response.json()["output"][0]["url"]
    assert statuses.count(202) == 2  # the kick-off, and the cancel
