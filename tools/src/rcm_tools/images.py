"""Container images, one per service, built with podman from the repository root (`make images`).

No registry is reachable here, so the base is made from Debian's packages (`mmdebstrap`: Python 3.11, tini,
CA certificates) and imported as `localhost/rcm-base:bookworm`; in production the base is a build argument
(`BASE`, a Python 3.11 slim image for example). Each service's image is two stages of
`deploy/images/Containerfile`:

- the build stage installs exactly the third-party distributions the service needs, from `requirements.lock`
  with their hashes required and no index (the wheels are downloaded on the host first, so the build needs
  no network and trusts nothing but the hashes), and copies the platform's own packages it imports;
- the runtime stage holds that environment, the service's migrations and a start script, runs as uid 10001
  under tini (so SIGTERM reaches the service), and writes nowhere but `/tmp`, so its root filesystem can be
  read-only.

What a service needs is read from the installed packages' metadata (`rcm-claim` requires `rcm-common`, which
requires `fastapi`, ...), markers and extras evaluated for the image's Python, so a dependency a service
declares reaches its image and nothing else does: no test tools, no broker binary.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Final

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from rcm_tools.errors import ToolError
from rcm_tools.stack import SERVICES, ServiceSpec

REPOSITORY: Final = Path(__file__).resolve().parents[3]
CONTAINERFILE: Final = REPOSITORY / "deploy" / "images" / "Containerfile"
BUILD: Final = REPOSITORY / ".build"
BASE_IMAGE: Final = "localhost/rcm-base:bookworm"
BASE_PACKAGES: Final = ("python3", "python3-venv", "tini", "ca-certificates")
TRIMMED_PATHS: Final = ("/usr/share/doc/*", "/usr/share/locale/*", "/usr/share/man/*", "/usr/share/info/*")
"""Left out of the base: no service reads them."""
IMAGE_PYTHON: Final = {"python_version": "3.11", "python_full_version": "3.11.2", "sys_platform": "linux"}
"""The base's interpreter (Debian bookworm's), for the markers of the requirements."""
LOCK_ENTRY: Final = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==", re.MULTILINE)


def image_name(service: ServiceSpec, tag: str) -> str:
    return f"localhost/rcm-{service.name}:{tag}"


def package_of(service: ServiceSpec) -> str:
    """The distribution that holds the service: `rcm-claim` for `rcm_claim`."""
    return service.module.replace("_", "-")


def needed_distributions(root: str) -> set[str]:
    """Every distribution `root` needs at run time in the image: its requirements, theirs, and so on, with
    each one's extras and markers evaluated for the image's Python (canonical names)."""
    needed: set[str] = set()
    pending: list[tuple[str, frozenset[str]]] = [(root, frozenset())]
    seen: set[tuple[str, frozenset[str]]] = set()
    while pending:
        name, extras = pending.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        needed.add(canonicalize_name(name))
        try:
            requirements = distribution(name).requires or []
        except PackageNotFoundError as missing:
            raise ToolError(f"{name} is not installed: run make install") from missing
        for text in requirements:
            requirement = Requirement(text)
            if _applies(requirement, extras):
                pending.append((requirement.name, frozenset(requirement.extras)))
    return needed


def _applies(requirement: Requirement, extras: frozenset[str]) -> bool:
    """Whether a requirement holds in the image: its marker true for the image's Python and one of the
    extras asked for (or none, for a requirement of no extra)."""
    if requirement.marker is None:
        return True
    environment = {key: str(value) for key, value in default_environment().items()} | IMAGE_PYTHON
    return any(requirement.marker.evaluate(environment | {"extra": extra}) for extra in (extras or {""}))


def locked_requirements(lock: str, wanted: Iterable[str]) -> str:
    """The entries of the lock (name, pin, hashes, marker) for the distributions wanted, in the lock's order;
    a wanted third-party distribution the lock lacks is an error (the lock is the only source of pins)."""
    entries = lock_entries(lock)
    names = set(wanted)
    missing = sorted({name for name in names if not name.startswith("rcm-")} - set(entries))
    if missing:
        raise ToolError(f"requirements.lock has no pin for {', '.join(missing)}: run make lock")
    return "".join(text for name, text in entries.items() if name in names)


def lock_entries(lock: str) -> dict[str, str]:
    """Each entry of a hashed requirements file (its pin, hashes and marker lines), by canonical name."""
    starts = [(canonicalize_name(match["name"]), match.start()) for match in LOCK_ENTRY.finditer(lock)]
    ends = [start for _, start in starts[1:]] + [len(lock)]
    return {name: lock[start:end] for (name, start), end in zip(starts, ends, strict=True)}


def own_packages(needed: set[str]) -> list[str]:
    """The platform's own import packages among the distributions: `rcm_common` for `rcm-common`."""
    return sorted(name.replace("-", "_") for name in needed if name.startswith("rcm-"))


@dataclass(frozen=True, slots=True)
class Staged:
    """What one service's build reads from `.build/images/<service>/`."""

    service: ServiceSpec
    folder: Path
    requirements: str


def stage(service: ServiceSpec, lock: str) -> Staged:
    """Write what the service's build copies: its hashed requirements, the platform's packages it imports
    (`site/`), its migrations and its start script (`app/`)."""
    folder = BUILD / "images" / service.name
    shutil.rmtree(folder, ignore_errors=True)
    needed = needed_distributions(package_of(service))
    requirements = locked_requirements(lock, needed)
    (folder / "site").mkdir(parents=True)
    (folder / "requirements.txt").write_text(requirements)
    for package in own_packages(needed):
        source = _source_of(package)
        shutil.copytree(source, folder / "site" / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    app = folder / "app"
    app.mkdir()
    migrations = REPOSITORY / "services" / service.name / "migrations"
    if migrations.is_dir():
        shutil.copytree(migrations, app / "migrations", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    start = app / "start"
    start.write_text(f'#!/bin/sh\n# {service.name}: served, or a maintenance command run (migrate, reencrypt)\n'
                     f'exec python -m {service.module} "$@"\n')  # fmt: skip
    start.chmod(0o755)
    return Staged(service, folder, requirements)


def _source_of(package: str) -> Path:
    """Where the package's source is in the repository (it is installed editable from there)."""
    for root in (REPOSITORY / "libs", REPOSITORY / "services"):
        for found in root.glob(f"*/src/{package}"):
            return found
    raise ToolError(f"no source for {package} under libs/ or services/")


def download_wheels(staged: Iterable[Staged], pip_python: str) -> Path:
    """The wheels of every staged service's requirements in `.build/wheels`, downloaded once with
    `pip_python`'s pip, each checked against its hash; only wheels, so the build compiles nothing."""
    wheels = BUILD / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    union = BUILD / "images" / "all-requirements.txt"
    union.write_text("".join(sorted({entry for s in staged for entry in lock_entries(s.requirements).values()})))
    _run([pip_python, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
          "--require-hashes", "--only-binary=:all:", "--python-version", "3.11", "--platform", "manylinux2014_x86_64",
          "--platform", "manylinux_2_28_x86_64", "--implementation", "cp", "--dest", str(wheels),
          "--requirement", str(union)])  # fmt: skip
    return wheels


def make_base() -> None:
    """The Debian base, made once: minbase with Python 3.11, tini and CA certificates, docs left out."""
    if _succeeds(["podman", "image", "exists", BASE_IMAGE]):
        return
    rootfs = BUILD / "rootfs.tar"
    rootfs.unlink(missing_ok=True)
    excluded = [f"--dpkgopt=path-exclude={path}" for path in TRIMMED_PATHS]
    _run(["mmdebstrap", "--quiet", "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}", *excluded,
          "bookworm", str(rootfs)])  # fmt: skip
    _run(["podman", "import", "--quiet", str(rootfs), BASE_IMAGE])
    rootfs.unlink()


def build(staged: Staged, tag: str) -> str:
    name = image_name(staged.service, tag)
    _run(["podman", "build", "--quiet", "--pull=never", "--file", str(CONTAINERFILE), "--tag", name,
          "--build-arg", f"BASE={BASE_IMAGE}", "--build-arg", f"SERVICE={staged.service.name}",
          "--build-arg", f"PORT={staged.service.port}", str(REPOSITORY)])  # fmt: skip
    return name


def image_size(name: str) -> int:
    """The image's size in bytes, as podman counts it (its layers, the base's included)."""
    shown = _run(["podman", "image", "inspect", "--format", "{{.Size}}", name])
    return int(shown.strip())


def build_all(tag: str, services: Iterable[ServiceSpec], pip_python: str) -> Iterator[tuple[str, int]]:
    """Each service's image, built: its name and size, one by one."""
    for tool in ("podman", "mmdebstrap"):
        if shutil.which(tool) is None:
            raise ToolError(f"{tool} is not installed: apt-get install podman buildah mmdebstrap")
    lock = (REPOSITORY / "requirements.lock").read_text()
    staged = [stage(service, lock) for service in services]
    download_wheels(staged, pip_python)
    make_base()
    for one in staged:
        name = build(one, tag)
        yield name, image_size(name)


def arguments() -> argparse.ArgumentParser:
    """The options of `rcm images`."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--tag", default="dev", help="the images' tag (default: %(default)s)")
    parser.add_argument(
        "--service", action="append", choices=[spec.name for spec in SERVICES], help="only this one (repeatable)"
    )
    parser.add_argument("--pip-python", default="python3", help="a Python whose pip downloads the wheels")
    return parser


def run(args: argparse.Namespace) -> int:
    """Build the images and print each one's name and size."""
    chosen = [spec for spec in SERVICES if args.service is None or spec.name in args.service]
    for name, size in build_all(args.tag, chosen, args.pip_python):
        print(f"{name:40} {size / 1e6:6.0f} MB", flush=True)
    return 0


def _succeeds(command: list[str]) -> bool:
    return subprocess.run(command, capture_output=True, check=False).returncode == 0  # noqa: S603 - our own argv


def _run(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - our own argv
    if done.returncode != 0:
        raise ToolError(f"{command[0]} {command[1]} failed:\n{done.stderr.strip()[-2000:]}")
    return done.stdout
