"""``make licences``: write docs/reference/third-party-licences.md from the installed distributions.

The project's own code is Apache-2.0 (``LICENSE``). The page lists every distribution the extras of
``pyproject.toml`` bring in, walked through the installed distributions' requirements (markers
evaluated here), with the licence their metadata states (License-Expression, else License, else the
classifiers). No versions: a row is a distribution, its licence and the extras that bring it in, so
the page is the same on every machine that resolves the same licences.

What metadata cannot say is written here by hand: the copyleft parts of the shipped extras and what
they mean for an operator (:data:`COPYLEFT`), and the native libraries a wheel bundles under its
wrapper's name (:data:`BUNDLED`). :func:`copyleft_found` reads the metadata and the licence files
each wheel ships; ``tests/system/deploy/test_licences.py`` fails when it finds a copyleft family
that :data:`COPYLEFT` does not name, or when the committed page's rows differ from the installed ones.

``python -m deploy.licences`` writes the page; ``--check`` writes nothing and exits 1 if it differs.
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PAGE = "docs/reference/third-party-licences.md"
PROJECT = "oaf-media"

#: The extras a deployment installs, each host its own; the copyleft check covers these.
REQUIRED = ("main-api", "media-vm")
#: Installed by the operator who runs on MySQL/MariaDB (and by deploy/Dockerfile).
OPTIONAL = ("mysql",)
#: Tools of a developer's checkout: never shipped, listed apart.
DEV = "dev"


@dataclass(frozen=True)
class Row:
    """One distribution of the page: its licence as its metadata states it, the extras that bring it in."""

    name: str
    licence: str
    extras: tuple[str, ...]


@dataclass(frozen=True)
class Copyleft:
    """A copyleft part of a shipped distribution, and what it asks of whoever runs or passes it on."""

    distribution: str
    families: frozenset[str]
    component: str
    meaning: str


#: Copyleft families, most specific first: a text is counted under the first that matches it.
FAMILIES = (
    ("AGPL", re.compile(r"\bAGPL|AFFERO GENERAL", re.I)),
    ("LGPL", re.compile(r"\bLGPL|(LESSER|LIBRARY) GENERAL PUBLIC", re.I)),
    ("GPL", re.compile(r"\bGPL|GENERAL PUBLIC LICEN[CS]E", re.I)),
    ("MPL", re.compile(r"\bMPL\b|MOZILLA PUBLIC", re.I)),
    ("EPL", re.compile(r"\bEPL\b|EPL-\d|ECLIPSE PUBLIC", re.I)),
    ("CDDL", re.compile(r"\bCDDL|COMMON DEVELOPMENT AND DISTRIBUTION", re.I)),
    ("EUPL", re.compile(r"\bEUPL|EUROPEAN UNION PUBLIC", re.I)),
    ("OSL", re.compile(r"\bOSL-\d|OPEN SOFTWARE LICEN[CS]E", re.I)),
    ("CC-BY-SA", re.compile(r"CC-BY-SA|SHAREALIKE", re.I)),
    ("SSPL", re.compile(r"\bSSPL|SERVER SIDE PUBLIC", re.I)),
)
#: A licence file names a licence in a ``License:`` line of a bundled-libraries list, or in a title
#: line. The GNU licences' titles are upper case; their prose ("... the GNU Affero General Public
#: License into a single ...", in the GPL-3.0 itself) is not a title and is not counted.
_LICENCE_LINE = re.compile(
    r"^\s*(?:License:\s*(?P<named>\S.*)|(?P<title>(?:Mozilla Public|Eclipse Public|European Union Public"
    r"|Common Development and Distribution) Licen[cs]e.*))$", re.I | re.M)
_GNU_TITLE = re.compile(r"^\s*(GNU (?:LESSER |LIBRARY |AFFERO )?GENERAL PUBLIC LICENSE)\b", re.M)
_LICENCE_FILE = re.compile(r"LICEN[CS]E|COPYING|NOTICE", re.I)

_LEAVE = ("Running the platform, even as a public service, is not distribution, and none of these "
          "licences (LGPL, GPL, MPL) has a network clause: an operator who only runs it owes nothing.")

#: Named by hand, with what each means; the families are what :func:`copyleft_found` reports.
COPYLEFT = (
    Copyleft("pyvips-binary", frozenset({"LGPL"}),
             "libvips (LGPL-2.1-or-later) and the libraries built into its one shared library "
             "(`pyvips_binary.libs/libvips-*.so`); the wheel's metadata says LGPL-3.0-or-later for the whole",
             "Passing it on (a container image, a VM image, an appliance) means giving the LGPL text and the "
             "source of that build (kleisauke/libvips-packaging at the libvips version, `pyvips.version()`) "
             "or a written offer of it, and leaving the library replaceable. A wheel in site-packages is "
             "replaceable (pip installs another build, or a system libvips through pyvips alone): keep it "
             "that way, never link it into one closed binary. Changes to libvips itself are LGPL too."),
    Copyleft("pillow-heif", frozenset({"LGPL"}),
             "libheif and libde265 (LGPL-3.0, `pillow_heif.libs/`), the HEIC decoder of both hosts",
             "As libvips: passed on with the LGPL text and their source (the versions in the wheel's "
             "`LICENSES_bundled.txt`), replaceable shared libraries, which a wheel is."),
    Copyleft("pillow-heif", frozenset({"GPL"}),
             "x265 (GPL-2.0, `pillow_heif.libs/libx265-*.so`): an HEVC encoder that libheif links, so it "
             "is loaded wherever pillow-heif is; this project calls it only to write test files. For this "
             "reason the wheel's `LICENSES_bundled.txt` says the binary wheel as a whole is GPLv2 (its "
             "Windows wheels add the MinGW runtime, GPL-3.0 with the GCC exception)",
             "Whoever passes on an installation holding pillow-heif passes on GPL-2.0 code: give the GPL "
             "text and the source of x265, libheif and libde265 (or a written offer of it, good for three "
             "years). Whether the Python that loads it forms one work with it is a legal question this page "
             "does not answer; if it matters to you, uninstall pillow-heif on both hosts (HEIC is then "
             "refused with a reason, README, Accepted formats, *What HEIC costs*)."),
    Copyleft("numpy", frozenset({"GPL", "LGPL"}),
             "the GCC runtime libraries of its OpenBLAS: libgfortran (GPL-3.0-or-later WITH "
             "GCC-exception-3.1) and libquadmath (LGPL-2.1-or-later), `numpy.libs/`",
             "The GCC Runtime Library Exception lets any program use libgfortran without taking on the GPL. "
             "libquadmath is a replaceable shared library: passed on, it wants the LGPL text and the GCC "
             "source offered."),
    Copyleft("opencv-python-headless", frozenset({"LGPL"}),
             "FFmpeg (LGPL-2.1-or-later: libavcodec, libavformat, libavutil, libswscale, libswresample in "
             "`opencv_python_headless.libs/`); the media VM uses only the Haar cascades, no video",
             "Passed on: the LGPL text (the wheel's `LICENSE-3RD-PARTY.txt` has it) and FFmpeg's source "
             "offered; the libraries stay replaceable shared libraries."),
    Copyleft("opencv-python-headless", frozenset({"MPL"}),
             "libsrt (MPL-2.0), in the macOS wheels only (`LICENSE-3RD-PARTY.txt` lists it for every platform)",
             "MPL-2.0 is copyleft per file: only changes to libsrt's own files would have to be published."),
    Copyleft("botocore", frozenset({"MPL"}),
             "its own copy of the CA bundle (`botocore/cacert.pem`, MPL-2.0, its `NOTICE` says so)",
             "As certifi's: used unchanged it asks nothing."),
    Copyleft("certifi", frozenset({"MPL"}),
             "the CA bundle (`cacert.pem`, from Mozilla's root store), MPL-2.0",
             "Copyleft per file: used unchanged it asks nothing; a changed `cacert.pem` that you pass on "
             "must be available under MPL-2.0."),
    Copyleft("tqdm", frozenset({"MPL"}),
             "tqdm itself (MPL-2.0 AND MIT), the progress bars of the main API's commands",
             "Copyleft per file: used unchanged it asks nothing; changes to tqdm's files that you pass on "
             "must be published under MPL-2.0."),
    Copyleft("mysqlclient", frozenset({"GPL"}),
             "mysqlclient (GPL-2.0-or-later), the `mysql` extra: installed only to run on MySQL/MariaDB, "
             "and by `deploy/Dockerfile`",
             "Passing on an installation holding it (the image `deploy/Dockerfile` builds, once you publish "
             "it) means the GPL text and mysqlclient's source (its sdist) offered with it. Apache-2.0 is "
             "compatible with GPL-3.0, and mysqlclient allows any later GPL version. Without MySQL, leave "
             "the extra out."),
)

#: Native libraries a wheel carries under its wrapper's licence, named where the wheel ships their
#: licences (the manylinux x86_64 wheels; other platforms bundle other sets: read each wheel's files).
BUNDLED = {
    "pillow": "`licenses/LICENSE` names AOM, Brotli, bzip2, dav1d, FreeType (FTL, or GPL-2.0 at your "
              "choice: the FTL applies), HarfBuzz, Little CMS, libavif, libjpeg-turbo, liblzma, libpng, "
              "LibTIFF, libwebp, libyuv, OpenJPEG, raqm, libXau, libxcb, libXdmcp, zlib, zstd: all permissive",
    "pillow-heif": "libheif, libde265 (LGPL-3.0), x265 (GPL-2.0): `licenses/LICENSES_bundled.txt`",
    "pyvips-binary": "libvips and its dependencies in one shared library; the wheel ships no list of them "
                     "(kleisauke/libvips-packaging's `THIRD-PARTY-NOTICES.md` has it)",
    "opencv-python-headless": "OpenCV (Apache-2.0), FFmpeg (LGPL-2.1+), libvpx, libaom, dav1d, libavif, "
                              "libpng, libwebp, OpenSSL 1.1, OpenBLAS and more: `LICENSE-3RD-PARTY.txt`",
    "numpy": "OpenBLAS, LAPACK (BSD), libgfortran (GPL-3.0+ with the GCC exception), libquadmath "
             "(LGPL-2.1+): `licenses/LICENSE.txt`",
}

#: A nudenet extra (issue 28) would bring an AGPL-3.0 model; named before it arrives.
PLANNED = ("The moderation model of the planned `nudenet` extra (issue 28) is **AGPL-3.0**. It is not "
           "installed today and will come only as an optional extra. The AGPL's network clause reaches "
           "operators: users who send images to a server running a modified model or modified code under "
           "the AGPL must be offered that source. An operator who does not install the extra is unaffected.")


class MissingDistribution(RuntimeError):
    """A requirement of an extra is not installed here, so its licence cannot be read."""


def _extras_of_project() -> dict[str, list[str]]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return data["project"]["optional-dependencies"]


def _requirements(extra: str, declared: dict[str, list[str]]) -> list[Requirement]:
    """An extra's requirements, the project's own extras (``oaf-media[main-api]``) expanded."""
    found = []
    for text in declared[extra]:
        requirement = Requirement(text)
        if canonicalize_name(requirement.name) == PROJECT:
            for inner in sorted(requirement.extras):
                found.extend(_requirements(inner, declared))
        else:
            found.append(requirement)
    return found


def closure(extra: str, declared: dict[str, list[str]] | None = None) -> dict[str, metadata.Distribution]:
    """``{canonical name: installed distribution}`` for everything ``extra`` brings in here."""
    declared = declared if declared is not None else _extras_of_project()
    found: dict[str, metadata.Distribution] = {}
    walked: set[tuple[str, frozenset[str]]] = set()
    missing = []
    pending = [(requirement, "") for requirement in _requirements(extra, declared)]
    while pending:
        requirement, asked_by = pending.pop()
        if requirement.marker and not any(requirement.marker.evaluate({"extra": e}) for e in asked_by.split(",")):
            continue
        name = canonicalize_name(requirement.name)
        key = (name, frozenset(requirement.extras))
        if key in walked:
            continue
        walked.add(key)
        try:
            distribution = found.get(name) or metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing.append(str(requirement))
            continue
        found[name] = distribution
        own_extras = ",".join(["", *sorted(requirement.extras)])
        pending.extend((Requirement(text), own_extras) for text in distribution.requires or [])
    if missing:
        raise MissingDistribution(f"extra {extra!r} needs {', '.join(sorted(missing))}, not installed here")
    return found


def licence_of(distribution: metadata.Distribution) -> str:
    """The licence the metadata states: License-Expression, else a one-line License, else the classifiers."""
    meta = distribution.metadata
    said = ""
    for field in ("License-Expression", "License"):
        text = (meta.get(field) or "").strip()
        if not text or "\n" in text or len(text) > 80:
            continue
        try:
            return canonicalize_license_expression(text)
        except InvalidLicenseExpression:
            if text in _ALIASES:
                return _ALIASES[text]
            said = said or text
    classifiers = [c.removeprefix("License :: ").removeprefix("OSI Approved :: ")
                   for c in meta.get_all("Classifier") or [] if c.startswith("License :: ")]
    if classifiers:
        return " / ".join(classifiers) + " (classifiers)"
    return f"{said} (its License field)" if said else "not stated in its metadata"


#: One-line License fields that say an SPDX licence in other words (tried after the SPDX parser).
_ALIASES = {
    "Apache License 2.0": "Apache-2.0",
    "Apache 2.0": "Apache-2.0",
    "MIT License": "MIT",
    "MIT license": "MIT",
    "BSD 3-Clause OR Apache-2.0": "BSD-3-Clause OR Apache-2.0",
}


def families(text: str) -> set[str]:
    """The copyleft families ``text`` names, each part of an expression (AND, OR, commas) on its own."""
    found = set()
    for part in re.split(r"\s+(?:AND|OR)\s+|[,;/()]", text):
        for family, pattern in FAMILIES:
            if pattern.search(part):
                found.add(family)
                break
    return found


def licence_files(distribution: metadata.Distribution) -> list[Path]:
    """The licence, copying and notice files in a distribution's ``.dist-info``."""
    return [Path(str(entry.locate())) for entry in distribution.files or []
            if ".dist-info" in str(entry.parent) and _LICENCE_FILE.search(entry.name)]


def copyleft_found(distribution: metadata.Distribution) -> set[str]:
    """Copyleft families in a distribution's metadata and in the licence files its wheel ships."""
    meta = distribution.metadata
    texts = [meta.get("License-Expression") or ""]
    texts += [c for c in meta.get_all("Classifier") or [] if c.startswith("License :: ")]
    documents = [path.read_text(encoding="utf-8", errors="replace") for path in licence_files(distribution)]
    field = (meta.get("License") or "").strip()
    if "\n" in field:
        documents.append(field)  # a whole licence text pasted into the field: read as a file
    else:
        texts.append(field)
    for text in documents:
        texts += [match.group("named") or match.group("title") for match in _LICENCE_LINE.finditer(text)]
        texts += _GNU_TITLE.findall(text)
    return set().union(*(families(text) for text in texts))


def named_copyleft() -> dict[str, set[str]]:
    """``{distribution: families}`` that :data:`COPYLEFT` names."""
    named: dict[str, set[str]] = {}
    for entry in COPYLEFT:
        named.setdefault(entry.distribution, set()).update(entry.families)
    return named


def rows(extras: tuple[str, ...]) -> list[Row]:
    """A row per distribution that ``extras`` bring in, with which of them bring it."""
    brought: dict[str, list[str]] = {}
    distributions: dict[str, metadata.Distribution] = {}
    for extra in extras:
        for name, distribution in closure(extra).items():
            brought.setdefault(name, []).append(extra)
            distributions[name] = distribution
    return [Row(name, licence_of(distributions[name]), tuple(brought[name])) for name in sorted(brought)]


def dev_rows() -> list[Row]:
    """The dev extra's tools: what it brings in beyond the shipped extras."""
    shipped = {row.name for row in rows(REQUIRED + OPTIONAL)}
    return [row for row in rows((DEV,)) if row.name not in shipped]


def _table(found: list[Row], *, bundled: bool) -> list[str]:
    head = ["| Distribution | Licence | Brought in by |" + (" Bundled native libraries |" if bundled else ""),
            "|---|---|---|" + ("---|" if bundled else "")]
    return head + [f"| `{row.name}` | {row.licence} | {', '.join(row.extras)} |"
                   + (f" {BUNDLED.get(row.name, '')} |" if bundled else "") for row in found]


def page() -> str:
    """The whole page, from the installed distributions and the notes above."""
    lines = [
        "# Third-party licences",
        "",
        "<!-- Written by `make licences` (python -m deploy.licences) from the installed distributions' "
        "metadata and the notes in deploy/licences.py; edit those, not this page. A test fails when a "
        "distribution or its licence is missing here, or a copyleft part of a shipped extra is not "
        "named below. -->",
        "",
        "oaf-media's own code is under the Apache License 2.0 ([LICENSE](../../LICENSE)). What it "
        "installs comes under the licences below, as each distribution's metadata states them "
        "(License-Expression, else License, else the classifiers). Versions are left out: the licences "
        "are the point, and the versions are whatever pip resolved on your machine.",
        "",
        "## Copyleft parts and what they mean for an operator",
        "",
        f"The shipped extras ({', '.join(f'`{e}`' for e in REQUIRED + OPTIONAL)}) hold these. {_LEAVE} The "
        "duties below begin when you pass an installation on to someone else (a container image you "
        "publish, a VM image, an appliance you sell). This is a summary, not legal advice.",
        "",
    ]
    for entry in COPYLEFT:
        lines += [f"- **`{entry.distribution}`**: {entry.component}. {entry.meaning}", ""]
    lines += [
        "HEVC is also covered by patents, whatever the licences say: README, Accepted formats, "
        "*What HEIC costs*.",
        "",
        f"> **Note.** {PLANNED}",
        "",
        "## Shipped extras",
        "",
        f"What `pip install '.[{','.join(REQUIRED)}]'` brings in (each host installs its own extra; "
        f"`{OPTIONAL[0]}` only where the database is MySQL/MariaDB). The bundled libraries are those "
        "of the manylinux x86_64 wheels, named where the wheel ships their licences.",
        "",
        *_table(rows(REQUIRED + OPTIONAL), bundled=True),
        "",
        "## Development tools (the `dev` extra, not shipped)",
        "",
        "What `make install-dev` adds for tests, lint and types; none of it is installed on a host.",
        "",
        *_table(dev_rows(), bundled=False),
        "",
    ]
    return "\n".join(line if line.startswith("|") else _wrap(line) for line in lines)


def _wrap(paragraph: str) -> str:
    """A paragraph (or a list item, or a comment) wrapped at 100 columns, as the other reference pages are."""
    indent = "  " if paragraph.startswith("- ") else "> " if paragraph.startswith("> ") else ""
    return textwrap.fill(paragraph, width=100, subsequent_indent=indent, break_on_hyphens=False,
                         break_long_words=False) if paragraph else ""


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` compare) the page; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m deploy.licences", description=__doc__)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the page is out of date")
    args = parser.parse_args(argv)
    text = page()
    path = ROOT / PAGE
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return 0
    if args.check:
        print(f"out of date: {PAGE} (run make licences)")
        return 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote: {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
