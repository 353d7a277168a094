"""Supply chain: every dependency is pinned to the range it was tested with."""

from __future__ import annotations

import re
import tomllib

from conftest import REPOSITORY


def test_every_dependency_has_a_tested_upper_bound():
    project = tomllib.loads((REPOSITORY / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = project["dependencies"] + [s for extra in project["optional-dependencies"].values() for s in extra]

    unpinned = [spec for spec in specs if not re.search(r"==|<", spec)]

    assert len(specs) >= 15
    assert unpinned == [], f"pin these to the versions the tests passed with: {unpinned}"


def test_torch_is_pinned_to_the_local_cpu_build():
    setup = (REPOSITORY / ".ci" / "setup").read_text(encoding="utf-8")
    assert '"torch==2.13.0"' in setup
    assert setup.index("torch==2.13.0") < setup.index("--editable")  # installed before anything pulls torch in
