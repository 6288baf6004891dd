"""The image's install path without Docker: its build context, its wheel, its venv.

``build_context`` copies what ``deploy/Dockerfile.dockerignore`` lets into the build context (the
repository's files as git sees them: tracked and untracked but not ignored); ``build_image_venv``
then runs the Dockerfile's install steps on it: build the project's wheel from the context, make
a fresh venv (no system site packages), install ``deploy/requirements.lock`` with
``--require-hashes --no-deps``, then the wheel with ``--no-deps``. ``shipped_sources`` is what
the wheel must hold: every file of every top-level package of the repository except the folders
``NOT_SHIPPED`` names, with the reason.
"""

import re
import shutil
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[2]
DOCKERIGNORE = ROOT / "deploy" / "Dockerfile.dockerignore"
LOCK = "deploy/requirements.lock"

NOT_SHIPPED = {
    "tests": "the test suite runs from the repository",
    "bench": "`make bench` runs from the repository (docs/performance.md)",
}
"""Top-level folders with Python code that the image does not install, and why."""

LOCK_INSTALL = ("--require-hashes", "--no-deps", "-r", LOCK)
"""How the Dockerfile installs the dependencies (``pip install <these>``)."""
WHEEL_BUILD = ("wheel", "--no-deps", "-w")
"""How the Dockerfile builds the project's wheel (``pip <these> <dir> .``)."""


def repository_files() -> list[PurePosixPath]:
    """The repository's files as git lists them (tracked, and untracked but not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode()  # fmt: skip
    return sorted(PurePosixPath(p) for p in listed.split("\0") if p and (ROOT / p).is_file())


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A ``.dockerignore`` pattern (Go ``filepath.Match`` plus ``**``) as a regex."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(f"^{out}$")


def dockerignore_rules(text: str) -> list[tuple[bool, re.Pattern[str]]]:
    """(is an exception ``!…``, pattern) per rule line, in order."""
    rules = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keep = line.startswith("!")
        rules.append((keep, _pattern_regex(line.lstrip("!").strip().strip("/"))))
    return rules


def in_context(path: PurePosixPath, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether Docker sends ``path``: the last rule matching it or one of its folders decides."""
    candidates = [str(path), *(str(parent) for parent in path.parents if str(parent) != ".")]
    included = True
    for keep, regex in rules:
        if any(regex.match(candidate) for candidate in candidates):
            included = keep
    return included


def build_context(dest: Path) -> list[PurePosixPath]:
    """Copy into ``dest`` the files the Dockerfile's build context holds; return them."""
    rules = dockerignore_rules(DOCKERIGNORE.read_text())
    kept = [path for path in repository_files() if in_context(path, rules)]
    for path in kept:
        (dest / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, dest / path)
    return kept


def shipped_sources() -> list[PurePosixPath]:
    """Every file of every top-level package the wheel must install (caches excluded)."""
    files = repository_files()
    packages = {p.parts[0] for p in files if len(p.parts) > 1 and p.suffix == ".py"}
    shipped = packages - set(NOT_SHIPPED)
    return [p for p in files if p.parts[0] in shipped and "__pycache__" not in p.parts]


def module_name(path: PurePosixPath) -> str | None:
    """``a/b/c.py`` → ``a.b.c``, ``a/b/__init__.py`` → ``a.b``; ``None`` for a data file."""
    if path.suffix != ".py":
        return None
    parts = path.with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def check(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    """``done`` when it exited 0; else an assertion error with its command and output."""
    command = " ".join(map(str, done.args))
    assert done.returncode == 0, f"{command}: exit {done.returncode}\n{done.stdout}{done.stderr}"
    return done


def run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return check(subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=600))


@dataclass
class ImageVenv:
    """The image's venv, built the way the Dockerfile builds it."""

    context: Path
    wheel: Path
    venv: Path

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    @property
    def python(self) -> str:
        return str(self.bin / "python")


def build_image_venv(work: Path) -> ImageVenv:
    """The Dockerfile's build stage, in ``work``: a venv without pip, filled by an outer pip
    (``--python``) with the lock, then with the wheel built (at the same time) from the context.
    """
    context = work / "context"
    build_context(context)
    target = work / "venv"
    venv.EnvBuilder(with_pip=False, system_site_packages=False, clear=True).create(target)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    into = [*pip, "--python", str(target / "bin" / "python"), "install", "--no-compile"]
    started = [
        subprocess.Popen(argv, cwd=context, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
        for argv in ([*into, *LOCK_INSTALL], [*pip, *WHEEL_BUILD, str(work / "dist"), "."])
    ]  # fmt: skip
    for process in started:
        stdout, stderr = process.communicate(timeout=600)
        check(subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr))
    (wheel,) = (work / "dist").glob("borderflow-*.whl")
    run([*into, "--no-deps", str(wheel)], cwd=work)
    return ImageVenv(context=context, wheel=wheel, venv=target)
