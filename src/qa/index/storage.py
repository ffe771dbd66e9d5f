"""The index folder on disk: complete builds only, switched in atomically.

Layout: `builds/<id>/` holds one complete build; `current` is a symlink to the one in use.
A build is written to `builds/<id>.partial/` and renamed when complete; `current` is then
replaced in one `rename`, so a reader sees the old build or the new one, never half of one.
"""

import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from qa.errors import IndexCorruptError, IndexMissingError

MANIFEST = "manifest.json"
CURRENT = "current"
BUILDS = "builds"
PARTIAL = ".partial"


def current_build(index_dir: Path) -> Path:
    """The folder of the build in use; raises IndexMissingError when there is none."""
    link = index_dir / CURRENT
    if not link.is_symlink() and not link.is_dir():
        raise IndexMissingError(f"no index in {index_dir}: run `qa index` first")
    target = link.resolve()
    if not (target / MANIFEST).is_file():
        raise IndexMissingError(f"no complete index in {index_dir}: run `qa index` first")
    return target


def new_build_dir(index_dir: Path) -> Path:
    """A fresh, empty folder to write a build into."""
    builds = index_dir / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(builds)
    name = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    path = builds / (name + PARTIAL)
    path.mkdir()
    return path


def publish(index_dir: Path, partial: Path) -> Path:
    """Make a finished build the current one, then remove the builds it replaced."""
    final = partial.with_name(partial.name.removesuffix(PARTIAL))
    os.replace(partial, final)
    _fsync_dir(final.parent)
    tmp_link = index_dir / f".{CURRENT}.{final.name}"
    if tmp_link.is_symlink():
        tmp_link.unlink()
    tmp_link.symlink_to(Path(BUILDS) / final.name)
    os.replace(tmp_link, index_dir / CURRENT)  # atomic: readers see old or new
    _fsync_dir(index_dir)
    for old in (index_dir / BUILDS).iterdir():
        if old != final and not old.name.endswith(PARTIAL):
            shutil.rmtree(old, ignore_errors=True)
    return final


def discard(partial: Path) -> None:
    """Remove an unfinished build."""
    shutil.rmtree(partial, ignore_errors=True)


def _remove_abandoned(builds: Path) -> None:
    """Delete partial builds whose process has died (a killed `qa index`)."""
    for path in builds.glob(f"*{PARTIAL}"):
        try:
            pid = int(path.name.split("-")[1])
        except (IndexError, ValueError):
            pid = -1
        if pid != os.getpid() and not _alive(pid):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def write_manifest(build: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest last, with a checksum of every other file of the build."""
    manifest = dict(manifest)
    manifest["files"] = {
        p.relative_to(build).as_posix(): file_sha256(p)
        for p in sorted(build.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    write_json(build / MANIFEST, manifest)


def read_manifest(build: Path, *, verify: bool = True) -> dict[str, Any]:
    """Read a build's manifest and, with `verify`, check every file against its checksum."""
    try:
        manifest = json.loads((build / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"index manifest unreadable in {build}: {exc}") from exc
    if not isinstance(manifest, dict) or "files" not in manifest:
        raise IndexCorruptError(f"index manifest in {build} is incomplete")
    if verify:
        for name, expected in manifest["files"].items():
            path = build / name
            if not path.is_file() or file_sha256(path) != expected:
                raise IndexCorruptError(
                    f"index file {name} is missing or damaged: rebuild with `qa index`"
                )
    return manifest
