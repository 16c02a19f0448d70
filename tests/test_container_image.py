"""The container image's entry point runs the Procfile's processes with the Procfile's flags.

The image itself is built and checked by hand (deploy/check_image.sh: this suite has no Docker
engine); what can drift without it is caught here, by reading both files.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def procfile_flags(process: str) -> list[str]:
    """The process's options in the Procfile, as they must appear in the entry point, minus the
    bind address and port (the image's own variables)."""
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith(f"{process}:"))
    command = re.sub(r"--(host|port) \S+", "", line.split(":", 1)[1])
    return re.findall(r"--[a-z-]+(?: (?!--)\S+)?", command)


@pytest.mark.parametrize("process", ["web", "ws"])
def test_the_entrypoint_runs_each_server_with_the_procfiles_flags(process):
    entrypoint = (ROOT / "deploy" / "docker" / "entrypoint.sh").read_text()
    block = entrypoint.split(f"    {process})", 1)[1].split(";;", 1)[0]
    body = " ".join(block.replace("\\\n", " ").replace('"', "").split())
    flags = procfile_flags(process)
    assert len(flags) >= 5
    missing = [flag for flag in flags if flag not in body]
    assert not missing, f"the image's {process} lacks the Procfile's {missing}"


def test_the_image_never_holds_the_embedded_services_or_the_dev_tools():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for path in ("musicapp/dev", "tests", "bench", "requirements-dev.txt", ".devdata", ".venv"):
        assert any(entry.strip("/") in (path, f"{path}/") for entry in ignored), path
    instructions = [line for line in (ROOT / "Dockerfile").read_text().splitlines() if not line.startswith("#")]
    assert not [line for line in instructions if "requirements-dev" in line]
    assert "USER app:app" in instructions
