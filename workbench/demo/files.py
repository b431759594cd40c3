"""The files a demo release is made of: the 8 ``file.type`` values and their names.

Every release has a wheel (if the package builds one) and an sdist. A few *legacy*
packages (chosen from a hash of the name, so no random draw is spent) also carry the
old binary formats on their oldest release: eggs, Windows installers, RPMs and so on.
Mirrors fetch every file, so those rare types show up in mirror traffic, rarely.
"""

from __future__ import annotations

import zlib

FILE_TYPES = (
    "bdist_wheel",
    "sdist",
    "bdist_egg",
    "bdist_wininst",
    "bdist_msi",
    "bdist_rpm",
    "bdist_dmg",
    "bdist_dumb",
)
WHEEL, SDIST = 0, 1
RARE = tuple(range(2, len(FILE_TYPES)))
#: One package in this many carries the legacy formats on its oldest release.
LEGACY_ONE_IN = 6


def is_legacy(name: str) -> bool:
    return zlib.crc32(name.encode()) % LEGACY_ONE_IN == 0


def filename(name: str, version: str, file_type: int) -> str:
    stem = name.replace("-", "_")
    return (
        f"{stem}-{version}-py3-none-any.whl",
        f"{stem}-{version}.tar.gz",
        f"{stem}-{version}-py2.7.egg",
        f"{stem}-{version}.win32.exe",
        f"{stem}-{version}.win32.msi",
        f"{stem}-{version}-1.noarch.rpm",
        f"{stem}-{version}.dmg",
        f"{stem}-{version}.linux-x86_64.zip",
    )[file_type]


def python_version(file_type: int) -> str:
    return {WHEEL: "py3", SDIST: "source", 2: "2.7"}.get(file_type, "any")


def release_files(name: str, version_index: int, has_wheel: bool) -> list[int]:
    """The file types uploaded for one release."""
    kinds = [WHEEL] if has_wheel else []
    kinds.append(SDIST)
    if version_index == 0 and is_legacy(name):
        kinds += list(RARE)
    return kinds
