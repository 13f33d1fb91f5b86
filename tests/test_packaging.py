"""The set-up files agree with each other: conda users get what pip users get."""
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_environment_yml_pins_the_course_extra():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    course = set(pyproject["project"]["optional-dependencies"]["course"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    pinned = {p for p in pip_section if not p.startswith("-e")}
    assert pinned == course, (
        f"environment.yml and pyproject's course extra differ: only in environment.yml {sorted(pinned - course)}, "
        f"only in pyproject.toml {sorted(course - pinned)}")


def test_readme_names_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    for command in ("make course", "make test"):
        assert command in readme, f"README.md should tell readers to run `{command}`"


def test_ci_runs_the_readme_test_command():
    script = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", script, re.M), ".ci/run must run `make test`, the README's test command"


def test_rnnkit_imports_without_torch_or_jupyter():
    """rnnkit's runtime needs NumPy only: block the optional packages and import every module."""
    code = (
        "import sys\n"
        "for name in ('torch', 'matplotlib', 'ipywidgets', 'nbgrader', 'IPython'):\n"
        "    sys.modules[name] = None\n"
        "import rnnkit, numpy as np\n"
        "h, _ = rnnkit.lstm_forward(np.zeros((1, 2, 3)), np.zeros((1, 4)), np.zeros((3, 16)), np.zeros((4, 16)), np.zeros(16))\n"
        "assert h.shape == (1, 2, 4)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, f"rnnkit needs an optional package at import time:\n{result.stderr}"
