"""`fwgraph harvest` on real git repositories built at test time: each trap, its exact facts and sources, the CLI."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, DOAP, RDF

from fwgraph.core.errors import InputError
from fwgraph.core.namespace import BASE, FW, SPDX
from fwgraph.publish.harvest import Catalogue, Limits, harvest
from tests.cli import fwgraph

from .conftest import FIXTURES, ROOT
from .gitrepos import BSD_3, MIT, GitRepo, pyproject

AS_OF = date(2026, 11, 30)
GH = "https://github.com/example/demo"
RECORDS = FIXTURES / "harvest"


def blob(commit: str, path: str) -> str:
    return f"{GH}/blob/{commit}/{path}"


@pytest.fixture
def repo(tmp_path):
    built = GitRepo(tmp_path / "demo", origin=f"{GH}.git")
    yield built
    built.close()


@pytest.fixture(scope="module")
def catalogue():
    from fwgraph import load

    return Catalogue.from_graph(load())


def run(path, **kwargs):
    return harvest(path, as_of=AS_OF, **kwargs)


# --------------------------------------------------------------------------- the traps


def test_tag_whose_package_declares_another_version(repo):
    good = repo.commit({"pyproject.toml": pyproject("demo", "1.0.0")}, "2025-01-10")
    repo.tag("v1.0.0", "2025-01-11")
    wrong = repo.commit({"README.md": "docs"}, "2025-03-01")
    repo.tag("v1.1.0", "2025-03-02")  # nobody bumped the version: the package still says 1.0.0
    result = run(repo.path)
    assert [(r.version, r.tag, r.status) for r in result.releases.releases] == [("1.0.0", "v1.0.0", "matches")]
    [mismatch] = result.releases.mismatches
    assert (mismatch.version, mismatch.tag, mismatch.commit, mismatch.date) == ("1.1.0", "v1.1.0", wrong,
                                                                                 date(2025, 3, 2))
    assert mismatch.declared.version == "1.0.0"
    latest = result.releases.latest
    assert (latest.version, latest.tag, latest.commit, latest.date) == ("1.0.0", "v1.0.0", good, date(2025, 1, 11))
    data = result.to_dict()
    assert data["latest_release"]["source"] == blob(good, "pyproject.toml")
    assert data["mismatched_tags"][0]["source"] == blob(wrong, "pyproject.toml")
    assert result.disagreements == [
        "release: tag v1.1.0 (2025-03-02) names 1.1.0, but pyproject.toml at that tag declares 1.0.0"]


def test_untagged_release_is_caught(repo):
    first = repo.commit({"pyproject.toml": pyproject("demo", "1.0.0")}, "2025-01-10")
    repo.tag("1.0.0", "2025-01-10")
    bump = repo.commit({"pyproject.toml": pyproject("demo", "1.1.0")}, "2025-06-01", "Release 1.1.0")
    repo.commit({"CHANGES.md": "1.1.0 released"}, "2025-06-02")
    repo.commit({"pyproject.toml": pyproject("demo", "1.2.0.dev0")}, "2025-06-03")  # development: not a release
    result = run(repo.path)
    assert [(r.version, r.tag, r.commit, r.date, r.status) for r in result.releases.releases] == [
        ("1.0.0", "1.0.0", first, date(2025, 1, 10), "matches"),
        ("1.1.0", None, bump, date(2025, 6, 1), "untagged")]
    latest = result.releases.latest
    assert (latest.version, latest.status) == ("1.1.0", "untagged")
    assert result.to_dict()["latest_release"]["source"] == blob(bump, "pyproject.toml")
    assert result.disagreements == [
        f"release: 1.1.0 is declared in pyproject.toml at commit {bump[:12]} (2025-06-01) but no tag names it"]
    assert result.read_at == bump  # the metadata facts are read at the latest release


def test_licence_txt_instead_of_license(repo):
    commit = repo.commit({"pyproject.toml": pyproject("demo", "2.0.0"), "LICENSE.txt": MIT}, "2026-02-01")
    repo.tag("2.0.0", "2026-02-01")
    result = run(repo.path)
    fact = result.facts["licence"]
    assert fact.value == ["MIT"]
    assert fact.source.url == blob(commit, "LICENSE.txt")
    assert [(c.kind, sorted(c.ids), c.path) for c, _ in result.licence_claims] == [("file", ["MIT"], "LICENSE.txt")]
    assert result.disagreements == []


def test_licence_file_that_disagrees_with_the_metadata(repo):
    extra = 'license = "MIT"\nclassifiers = ["Programming Language :: Python :: 3.12"]'
    commit = repo.commit({"pyproject.toml": pyproject("demo", "0.4.0", extra=extra), "LICENSE": BSD_3},
                         "2026-01-05")
    repo.tag("v0.4.0", "2026-01-05")
    result = run(repo.path)
    assert result.facts["licence"].value == ["MIT"]  # the metadata's own SPDX expression is the package's word
    assert result.facts["licence"].source.url == blob(commit, "pyproject.toml")
    assert result.disagreements == [
        "licence: the metadata in pyproject.toml ('MIT') states MIT, but the licence file LICENSE reads as "
        "BSD-3-Clause"]
    claims = {(c.kind, frozenset(c.ids), s.url) for c, s in result.licence_claims}
    assert claims == {("metadata", frozenset({"MIT"}), blob(commit, "pyproject.toml")),
                      ("file", frozenset({"BSD-3-Clause"}), blob(commit, "LICENSE"))}


def test_dynamic_version_from_the_tag(repo):
    text = pyproject("demo", dynamic=True, requires='"hatchling", "hatch-vcs"')
    text += '\n[tool.hatch.version]\nsource = "vcs"\n'
    first = repo.commit({"pyproject.toml": text, "src/demo/__init__.py": "", "src/demo/py.typed": ""}, "2024-03-01")
    repo.tag("v0.1.0", "2024-03-01")
    second = repo.commit({"src/demo/core.py": "x = 1\n"}, "2026-10-01")
    repo.tag("v0.2.0rc1", "2026-10-01", annotated=False)
    repo.tag("v0.2.0", "2026-10-02")
    result = run(repo.path)
    assert [(r.version, r.tag, r.status) for r in result.releases.releases] == [
        ("0.1.0", "v0.1.0", "from-tag"), ("0.2.0rc1", "v0.2.0rc1", "from-tag"), ("0.2.0", "v0.2.0", "from-tag")]
    assert result.releases.releases[1].date == date(2026, 10, 1)  # a lightweight tag is dated by its commit
    assert all(r.declared.how == "from the tag (hatch-vcs)" for r in result.releases.releases)
    assert result.releases.latest.version == "0.2.0"
    assert result.releases.first.commit == first
    assert result.facts["typed"].value is True
    assert result.facts["typed"].source.url == blob(second, "src/demo/py.typed")
    assert result.disagreements == []


def test_setup_py_only_project_is_parsed_never_run(repo, tmp_path, catalogue):
    witness = tmp_path / "setup-py-ran"
    setup_py = f'''import os, sys
open({str(witness)!r}, "w").write("ran")
VERSION = "0.3.1"
REQUIRES = ["Jinja2>=2.10", "requests"]
setup(
    name="oldpkg",
    version=VERSION,
    license="BSD",
    url="https://oldpkg.example.org/",
    project_urls={{"Bug Tracker": "https://example.org/oldpkg/issues"}},
    python_requires=">=3.8",
    install_requires=REQUIRES,
    classifiers=[
        "License :: OSI Approved :: BSD License",
        "Programming Language :: Python :: 3.8",
        "Programming Language :: Python :: 3.12",
    ],
    ext_modules=[Extension("oldpkg._speedups", ["oldpkg/_speedups.c"])],
)
while True:
    pass
'''
    commit = repo.commit({"setup.py": setup_py, "LICENSE": BSD_3, "oldpkg/__init__.py": "",
                          "oldpkg/_speedups.c": "int x;\n"}, "2021-04-01")
    repo.tag("0.3.1", "2021-04-02")
    result = run(repo.path, catalogue=catalogue)
    assert not witness.exists()
    [release] = result.releases.releases
    assert (release.version, release.status, release.declared.how) == ("0.3.1", "matches", "setup.py version=")
    facts = {name: (fact.value, fact.source.url) for name, fact in result.facts.items()}
    assert facts["distribution"] == ("oldpkg", blob(commit, "setup.py"))
    assert facts["licence"] == (["BSD-3-Clause"], blob(commit, "LICENSE"))
    assert facts["requires_python"] == (">=3.8", blob(commit, "setup.py"))
    assert facts["python_versions"] == (["3.8", "3.12"], blob(commit, "setup.py"))
    assert facts["typed"] == (False, f"{GH}/tree/{commit}")
    assert facts["native_core"] == (["C"], blob(commit, "setup.py"))
    assert facts["homepage"] == ("https://oldpkg.example.org/", blob(commit, "setup.py"))
    assert facts["tracker"] == ("https://example.org/oldpkg/issues", blob(commit, "setup.py"))
    assert [d["iri"] for d in facts["dependencies"][0]] == [BASE + "library/jinja2"]
    assert facts["status"] == ("unmaintained", f"{GH}/tree/{commit}")
    assert result.subject == BASE + "framework/oldpkg"


def test_repository_with_no_tags(repo):
    commit = repo.commit({"pyproject.toml": pyproject("demo", "0.1.0.dev0")}, "2026-09-01")
    result = run(repo.path)
    assert result.releases.releases == [] and result.releases.mismatches == []
    assert result.releases.latest is None and result.releases.first is None
    assert result.read_at == commit and result.read_at_label == "HEAD"
    assert result.facts["status"].value == "slow"  # no release, but a commit in the last 365 days
    assert result.releases.cadence(AS_OF) == {"releases_last_12_months": 0, "releases_last_24_months": 0,
                                              "days_since_last_release": None, "days_since_last_commit": 90}
    assert "no release: no tag names a version and the default branch declares no final version" in result.notes


@pytest.mark.parametrize(("tag", "version"), [
    ("1.2.3", "1.2.3"), ("v1.2.3", "1.2.3"), ("release-0.11.1", "0.11.1"), ("flask-2.0rc1", "2.0rc1"),
    ("v0.1.0-alpha.1", "0.1.0a1"), ("rel_1_4_54", "1.4.54"), ("tg2.5.0", "2.5.0"), ("webpy-0.70", "0.70"),
    ("2.0.x", None), ("interface-based", None), ("backups/z4-zmi@124419", None)])
def test_tag_names_and_the_versions_they_name(tag, version):
    from fwgraph.publish.harvest.releases import tag_version

    found = tag_version(tag)
    assert (str(found) if found else None) == version


def test_tags_of_other_packages_in_the_same_repository_are_left_out(repo):
    commit = repo.commit({"pyproject.toml": pyproject("demo", "1.0.0"),
                          "packages/demo-icons/pyproject.toml": pyproject("demo-icons", "2.0.0")}, "2026-04-01")
    repo.tag("v1.0.0", "2026-04-01")
    repo.tag("demo-icons-v2.0.0", "2026-04-02")
    result = run(repo.path)
    assert [(r.version, r.tag, r.commit) for r in result.releases.releases] == [("1.0.0", "v1.0.0", commit)]
    assert result.releases.other_tags == ["demo-icons-v2.0.0"]


def test_placeholder_version_stamped_by_the_release_build_is_not_a_mismatch(repo):
    commit = repo.commit({"src/demo/__init__.py": '__version__ = "0.0.0"\n',
                          "pyproject.toml": pyproject("demo", dynamic=True)
                          + '[tool.hatch.version]\npath = "src/demo/__init__.py"\n'}, "2026-03-01")
    repo.tag("0.28.0", "2026-03-01")
    result = run(repo.path)
    assert [(r.version, r.status, r.commit) for r in result.releases.releases] == [("0.28.0", "placeholder", commit)]
    assert result.releases.mismatches == [] and result.disagreements == []  # and 0.0.0 is no untagged release


def test_an_old_untagged_version_above_the_tags_is_not_the_latest(repo):
    repo.commit({"pyproject.toml": pyproject("demo", "1.0.0")}, "2010-01-01")
    repo.tag("1.0.0", "2010-01-01")
    repo.commit({"pyproject.toml": pyproject("demo", "2.0")}, "2010-10-11")  # declared, never shipped
    fix = repo.commit({"pyproject.toml": pyproject("demo", "1.0.3")}, "2018-01-12")
    repo.tag("1.0.3", "2018-01-12")
    result = run(repo.path)
    assert [(r.version, r.status) for r in result.releases.releases] == [
        ("1.0.0", "matches"), ("2.0", "untagged"), ("1.0.3", "matches")]
    assert (result.releases.latest.version, result.releases.latest.commit) == ("1.0.3", fix)


# --------------------------------------------------------------------------- more of what it reads


def test_maturin_version_from_cargo_and_rust_core_in_a_bare_mirror(tmp_path):
    mirror = GitRepo(tmp_path / "owner+granular" / "repo", bare=True)
    text = pyproject("granular", dynamic=True, backend="maturin", requires='"maturin>=1,<2"',
                     extra='license = "BSD-3-Clause"\nrequires-python = ">=3.10"\n'
                           '[project.urls]\nDocumentation = "https://granular.example.org/"')
    commit = mirror.commit({"pyproject.toml": text, "Cargo.toml": '[package]\nname = "granular"\nversion = "2.1.0"\n',
                            "src/lib.rs": "fn main() {}\n", "granular/__init__.py": ""}, "2026-08-05")
    mirror.tag("v2.1.0", "2026-08-05")
    mirror.close()
    result = run(mirror.path)  # no remote and no --repo-url: sources are git: references
    [release] = result.releases.releases
    assert (release.version, release.status, release.declared.path) == ("2.1.0", "matches", "Cargo.toml")
    assert result.facts["native_core"].value == ["Rust"]
    assert result.facts["native_core"].source.url == f"git:{commit}:pyproject.toml"
    assert result.facts["licence"].value == ["BSD-3-Clause"]
    assert result.facts["requires_python"].value == ">=3.10"
    assert result.facts["documentation"].value == "https://granular.example.org/"
    assert result.facts["status"].value == "active"
    assert result.url is None


def test_repo_url_option_makes_github_permalinks(repo):
    commit = repo.commit({"pyproject.toml": pyproject("demo", "1.0.0")}, "2026-01-01")
    repo.tag("1.0.0", "2026-01-01")
    result = run(repo.path, repo_url="git@github.com:other/fork.git")
    assert result.facts["distribution"].source.url == f"https://github.com/other/fork/blob/{commit}/pyproject.toml"


def test_turtle_uses_the_vocabulary_and_reifies_each_fact_with_its_source(repo, catalogue):
    extra = ('license = "MIT"\nrequires-python = ">=3.9"\ndependencies = ["jinja2>=3"]\n'
             'classifiers = ["Programming Language :: Python :: 3.13"]')
    commit = repo.commit({"pyproject.toml": pyproject("Flask", "3.1.3", extra=extra),
                          "src/flask/__init__.py": "", "src/flask/py.typed": ""}, "2026-02-18")
    repo.tag("3.1.3", "2026-02-18")
    g = Graph().parse(data=run(repo.path, catalogue=catalogue).to_turtle(), format="turtle")
    flask = URIRef(BASE + "framework/flask")  # found in the graph by its PyPI name
    latest = g.value(flask, FW.latestRelease)
    assert (flask, DOAP.release, latest) in g
    assert g.value(latest, DOAP.revision) == Literal("3.1.3")
    assert str(g.value(latest, DOAP.created)) == "2026-02-18"
    assert g.value(latest, DCTERMS.source) == URIRef(blob(commit, "pyproject.toml"))
    assert (flask, DOAP.license, SPDX["MIT"]) in g
    assert (flask, FW.typed, Literal(True)) in g
    assert (flask, FW.templateEngine, URIRef(BASE + "library/jinja2")) in g
    assert (flask, FW.maintenanceStatus, URIRef(BASE + "status/active")) in g
    statements = {(g.value(s, RDF.predicate), g.value(s, DCTERMS.source), str(g.value(s, DCTERMS.date)))
                  for s in g.subjects(RDF.type, RDF.Statement)}
    assert (FW.requiresPython, URIRef(blob(commit, "pyproject.toml")), "2026-11-30") in statements
    assert (FW.typed, URIRef(blob(commit, "src/flask/py.typed")), "2026-11-30") in statements
    assert (FW.pythonVersion, URIRef(blob(commit, "pyproject.toml")), "2026-11-30") in statements


# --------------------------------------------------------------------------- bounds


def test_oversized_files_and_too_many_tags_are_noted_not_read(repo):
    repo.commit({"pyproject.toml": pyproject("demo", "1.0.0") + "#" * 5000, "LICENSE": MIT * 3}, "2026-01-01")
    for n in range(5):
        repo.tag(f"0.{n}", f"2025-0{n + 1}-01")
    result = run(repo.path, limits=Limits(tags=3, blob_bytes=4096, licence_bytes=2048))
    # the package's version cannot be read (pyproject.toml is over the limit): the tags stay unchecked releases
    assert [(r.tag, r.status) for r in result.releases.releases] == [("0.2", "unchecked"), ("0.3", "unchecked"),
                                                                     ("0.4", "unchecked")]
    assert "5 tags; only the newest 3 were examined" in result.notes
    assert any("pyproject.toml" in n and "more than the harvest reads" in n for n in result.notes)
    assert any(n.startswith("LICENSE at") and "not matched" in n for n in result.notes)
    assert "licence" not in result.facts


def test_not_a_repository_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="not a git repository"):
        harvest(tmp_path)


# --------------------------------------------------------------------------- the command line




def _demo(path: Path, *, newer: bool = False) -> GitRepo:
    """The repository of the fixture record tests/fixtures/harvest/demo.ttl (``newer``: one release past it)."""
    built = GitRepo(path)
    extra = ('license = "MIT"\nrequires-python = ">=3.10"\nclassifiers = ["Programming Language :: Python :: 3.12"]\n'
             '[project.urls]\nHomepage = "https://demo.example.org/"')
    built.commit({"pyproject.toml": pyproject("demo-fw", "1.2.0", extra=extra), "LICENSE": MIT,
                  "src/demo_fw/__init__.py": "", "src/demo_fw/py.typed": ""}, "2019-06-01")
    built.tag("1.2.0", "2026-05-01")
    if newer:
        built.commit({"pyproject.toml": pyproject("demo-fw", "1.3.0", extra=extra.replace("3.10", "3.11"))},
                     "2026-10-01")
        built.tag("1.3.0", "2026-10-01")
    built.close()
    return built


def test_cli_harvest_prints_turtle_and_json(tmp_path):
    _demo(tmp_path / "example+demo")
    run_ttl = fwgraph("harvest", tmp_path / "example+demo", "--repo-url", GH, "--as-of", "2026-11-30")
    assert run_ttl.returncode == 0, run_ttl.stderr
    g = Graph().parse(data=run_ttl.stdout, format="turtle")
    assert g.value(g.value(URIRef(BASE + "framework/demo-fw"), FW.latestRelease), DOAP.revision) == Literal("1.2.0")
    run_json = fwgraph("harvest", tmp_path / "example+demo", "--format", "json", "--as-of", "2026-11-30")
    assert run_json.returncode == 0, run_json.stderr
    data = json.loads(run_json.stdout)
    assert data["latest_release"]["version"] == "1.2.0"
    assert data["facts"]["licence"]["value"] == ["MIT"]
    assert data["facts"]["licence"]["source"].startswith("git:") and data["facts"]["licence"]["derived"] == "2026-11-30"


def test_cli_harvest_of_a_folder_that_is_no_repository_exits_2(tmp_path):
    run_ = fwgraph("harvest", tmp_path)
    assert run_.returncode == 2
    assert "not a git repository" in run_.stderr


def test_cli_harvest_past_its_time_limit_exits_2(tmp_path):
    _demo(tmp_path / "example+demo")
    run_ = fwgraph("harvest", tmp_path / "example+demo", "--timeout", "0.001")
    assert run_.returncode == 2
    assert "time limit" in run_.stderr


def test_cli_check_consistent_record_exits_0(tmp_path):
    _demo(tmp_path / "example+demo")
    run_ = fwgraph("harvest", "--check", "--repos", tmp_path, "--as-of", "2026-11-30", RECORDS / "demo.ttl")
    assert run_.returncode == 0, run_.stdout + run_.stderr
    assert "framework/demo-fw" in run_.stdout and ": consistent" in run_.stdout
    assert "1 record(s) checked, 0 stale or disagreeing" in run_.stdout


def test_cli_check_stale_record_exits_1_and_reports_each_fact(tmp_path):
    _demo(tmp_path / "example+demo", newer=True)
    run_ = fwgraph("harvest", "--check", "--repos", tmp_path, "--as-of", "2026-11-30", "--format", "json",
                   RECORDS / "demo.ttl")
    assert run_.returncode == 1, run_.stdout + run_.stderr
    [record] = json.loads(run_.stdout)["records"]
    diffs = {d["fact"]: (d["record"], d["harvested"]) for d in record["differences"]}
    assert diffs == {"latest release": ("1.2.0", "1.3.0"), "requires-python": (">=3.10", ">=3.11")}
    turtle = fwgraph("harvest", "--check", "--repos", tmp_path, "--as-of", "2026-11-30", "--format", "turtle",
                     RECORDS / "demo.ttl")
    assert turtle.returncode == 1
    g = Graph().parse(data=turtle.stdout, format="turtle")
    stale = {(g.value(s, RDF.predicate), g.value(s, RDF.object), g.value(s, FW.harvestedValue))
             for s in g.subjects(RDF.type, FW.StaleFact)}
    assert stale == {(FW.latestRelease, Literal("1.2.0"), Literal("1.3.0")),
                     (FW.requiresPython, Literal(">=3.10"), Literal(">=3.11"))}


def test_check_keeps_curator_overrides_and_reports_facts_the_record_lacks(tmp_path):
    from fwgraph.data.graph import parse_file
    from fwgraph.publish.harvest.check import check

    _demo(tmp_path / "example+demo")
    text = (RECORDS / "demo.ttl").read_text(encoding="utf-8")
    text = text.replace('fw:requiresPython ">=3.10" ;', 'fw:missingFact [ fw:onProperty fw:requiresPython ; '
                        'rdfs:comment "the curator keeps this open"@en ] ;')
    text = text.replace('fw:pythonVersion "3.12" ;', "")
    record = tmp_path / "demo.ttl"
    record.write_text(text, encoding="utf-8")
    report = check([(str(record), parse_file(record))], tmp_path, AS_OF, harvest)
    [result] = report.records
    assert result.stale == [] and not report.stale  # consistent: exit 0
    assert result.overrides == ["requires-python: 'the curator keeps this open' (the repository states >=3.10)"]
    [lacking] = [d for d in result.differences if d.missing]
    assert (lacking.fact, lacking.record, lacking.harvested) == ("Python versions", [], ["3.12"])
    assert "not in the record: Python versions" in report.to_text()


def test_check_honours_a_curator_override_only_for_the_values_it_answers(tmp_path):
    from fwgraph.data.graph import parse_file
    from fwgraph.publish.harvest.check import check

    _demo(tmp_path / "example+demo", newer=True)  # the repository states 1.3.0 and >=3.11; the record 1.2.0, >=3.10
    text = (RECORDS / "demo.ttl").read_text(encoding="utf-8")
    text = text.replace('fw:lastChecked "2026-11-30"^^xsd:date ;', """fw:lastChecked "2026-11-30"^^xsd:date ;
        fw:curatorOverride [ a fw:CuratorOverride ; fw:onProperty fw:latestRelease ; fw:harvestedValue "1.3.0" ;
            rdfs:comment "1.3.0 was tagged but never published"@en ;
            dcterms:source <https://github.com/example/demo/blob/1.3.0/pyproject.toml> ] ;
        fw:curatorOverride [ fw:onProperty fw:requiresPython ; fw:harvestedValue ">=3.12" ;
            rdfs:comment "an older judgement"@en ;
            dcterms:source <https://github.com/example/demo/blob/1.2.0/pyproject.toml> ] ;""")
    record = tmp_path / "demo.ttl"
    record.write_text(text, encoding="utf-8")
    report = check([(str(record), parse_file(record))], tmp_path, AS_OF, harvest)
    [result] = report.records
    assert result.overrides == ["latest release: overridden: '1.3.0 was tagged but never published' "
                                "(the repository states 1.3.0)"]
    [stale] = result.stale  # the override of requires-python names another harvested value: still reported
    assert (stale.fact, stale.record, stale.harvested) == ("requires-python", ">=3.10", ">=3.11")
    assert stale.message.endswith("the curator's override holds only for >=3.12")
    assert "kept (curator's override): latest release: overridden: '1.3.0 was tagged" in report.to_text()
    assert [d["fact"] for d in json.loads(report.to_json())["records"][0]["differences"]] == ["requires-python"]


def test_cli_check_unreadable_repository_or_record_exits_2(tmp_path):
    (tmp_path / "example+demo").mkdir()  # where the record's repository should be: not a repository
    run_ = fwgraph("harvest", "--check", "--repos", tmp_path, RECORDS / "demo.ttl")
    assert run_.returncode == 2, run_.stdout + run_.stderr
    assert "not a git repository" in run_.stdout
    broken = tmp_path / "broken.ttl"
    broken.write_text("<a> <b> .\n", encoding="utf-8")
    run_ = fwgraph("harvest", "--check", "--repos", tmp_path, broken)
    assert run_.returncode == 2
    assert "broken.ttl:1" in run_.stderr


def test_cli_check_never_writes_into_data(tmp_path):
    before = {p: p.read_bytes() for p in (ROOT / "data").rglob("*.ttl")}
    _demo(tmp_path / "pallets+flask", newer=True)
    run_ = fwgraph("harvest", "--check", "--repos", tmp_path, ROOT / "data" / "frameworks" / "flask.ttl")
    assert run_.returncode == 1  # the fixture repository is not Flask's history: the record disagrees with it
    assert {p: p.read_bytes() for p in (ROOT / "data").rglob("*.ttl")} == before


# ------------------------------------------------------------------ crafted records and repositories (issue 20)


@pytest.mark.parametrize("url", ["https://github.com/example/...git", "https://github.com/example/..",
                                 "https://github.com/example/.", "https://github.com/example/../"])
def test_check_pairs_no_record_with_a_folder_outside_repos(tmp_path, url):
    """``…/...git`` was read as the name ``..`` (``.git`` stripped), so --check harvested the folder above --repos."""
    from fwgraph.publish.harvest.check import find_repository

    outer = tmp_path / "outer"
    _demo(outer)  # a repository that is not under --repos
    repos = outer / "repos"
    (repos / "example").mkdir(parents=True)
    assert find_repository(repos, url) is None
    record = tmp_path / "crafted.ttl"
    record.write_text((RECORDS / "demo.ttl").read_text(encoding="utf-8").replace(
        "<https://github.com/example/demo>", f"<{url}>", 1), encoding="utf-8")
    run_ = fwgraph("harvest", "--check", "--repos", repos, "--format", "json", "--as-of", "2026-11-30", record)
    [checked] = json.loads(run_.stdout)["records"]
    assert checked["repository"] is None and checked["skipped"], checked


def test_github_addresses_name_no_dot_folders():
    from fwgraph.publish.harvest.repository import github_base

    for url in ("https://github.com/example/...git", "https://github.com/example/..", "git@github.com:example/.git",
                "https://github.com/example/."):
        assert github_base(url) is None, url
    assert github_base("https://github.com/example/demo.git") == "https://github.com/example/demo"
    assert github_base("https://github.com/example/demo.py") == "https://github.com/example/demo.py"
    assert github_base("https://github.com/example/.github") == "https://github.com/example/.github"


BOMB = 64 << 20  # a git object that inflates to 64 MiB of zeros (about 64 KiB compressed)


def _plant(repo_path: Path, file: str, declared: int, inflated: int = BOMB) -> None:
    """Replace the loose object of ``file`` at HEAD with a zlib bomb: a blob header declaring ``declared`` bytes,
    then ``inflated`` zero bytes."""
    import zlib

    from dulwich.object_store import tree_lookup_path
    from dulwich.repo import Repo

    repo = Repo(str(repo_path))
    try:
        _, sha = tree_lookup_path(repo.__getitem__, repo[repo.head()].tree, file.encode())
        path = Path(repo.object_store.path) / sha[:2].decode() / sha[2:].decode()
    finally:
        repo.close()
    packer = zlib.compressobj(1)
    data = packer.compress(b"blob %d\0" % declared) + packer.compress(bytes(inflated)) + packer.flush()
    path.chmod(0o644)
    path.write_bytes(data)


def _peak_while(call):
    """``call()``'s value and the most memory Python held meanwhile, in bytes."""
    import tracemalloc

    tracemalloc.start()
    try:
        value = call()
        return value, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _big_repository(path: Path, packed: bool = False) -> None:
    """A repository whose pyproject.toml at its release is BOMB bytes of zeros (about 64 KiB compressed): a loose
    object, or with ``packed`` one in a pack."""
    from dulwich.repo import Repo

    built = GitRepo(path)
    built.commit({"pyproject.toml": bytes(BOMB), "LICENSE": MIT}, "2026-01-01")
    built.tag("1.0.0", "2026-01-01")
    built.close()
    if packed:
        repo = Repo(str(path))
        repo.object_store.pack_loose_objects()
        repo.close()


@pytest.mark.parametrize("packed", [False, True], ids=["loose", "packed"])
def test_a_git_object_larger_than_the_harvest_reads_is_not_inflated(tmp_path, packed):
    """A zlib bomb that states its size: it was inflated whole (64 MiB here; dulwich stops only at 512 MiB, or at
    the repository's own core.bigFileThreshold) and its size checked afterwards. Now the size the object declares
    is checked first: the file is noted, nothing of it inflated, and the rest is harvested."""
    _big_repository(tmp_path / "demo", packed)
    run(_demo(tmp_path / "warm").path)  # what a first harvest loads once (the SPDX licence list) is not counted
    result, peak = _peak_while(lambda: run(tmp_path / "demo"))
    assert any(n.startswith("pyproject.toml at") and f"is {BOMB} bytes, more than the harvest reads" in n
               for n in result.notes), result.notes
    assert result.facts["licence"].value == ["MIT"]  # read from LICENSE: the harvest went on
    assert peak < 8 << 20, f"{peak} bytes held: the object was inflated"


def test_a_git_object_that_inflates_past_its_size_fails_its_repository_and_the_check_goes_on(tmp_path):
    """A zlib bomb that lies about its size (100 bytes declared, 64 MiB inside): a corrupt object. Its repository
    is reported unreadable, at once, and the next record is still checked."""
    _demo(tmp_path / "example+demo")
    _plant(tmp_path / "example+demo", "pyproject.toml", declared=100)
    _demo(tmp_path / "example+other")
    other = tmp_path / "other.ttl"
    other.write_text((RECORDS / "demo.ttl").read_text(encoding="utf-8").replace("example/demo", "example/other")
                     .replace("framework:demo-fw", "framework:other-fw"), encoding="utf-8")
    run_ = fwgraph("harvest", "--check", "--repos", tmp_path, "--format", "json", "--as-of", "2026-11-30",
                   RECORDS / "demo.ttl", other)
    assert run_.returncode == 2, run_.stdout + run_.stderr
    records = {r["record"].rsplit("/", 1)[1]: r for r in json.loads(run_.stdout)["records"]}
    assert "inflates past the 100 bytes it declares" in records["demo-fw"]["error"], records["demo-fw"]
    assert records["other-fw"]["error"] is None and records["other-fw"]["differences"] == []


def test_a_harvest_whose_process_dies_fails_only_its_repository(tmp_path):
    """A harvest process killed (memory, a crash) escaped as WorkStopped and ended the whole --check."""
    from fwgraph.core.errors import WorkStopped
    from fwgraph.publish.harvest.record import harvest_bounded

    class Dying:
        def run(self, *args, **kwargs):
            raise WorkStopped("the job's process stopped without an answer (memory limit or crash)")

    with pytest.raises(InputError, match="stopped"):
        harvest_bounded(tmp_path, sandbox=Dying())


def test_every_object_of_a_deltified_pack_is_read(tmp_path):
    """Real packs store most objects as deltas whose zlib data opens with a dynamic Huffman table, longer than
    the 64 bytes the delta's size check once inflated: every such object was called corrupt (the PyPA advisory
    database could not be read at all). A pack written with deltas, as git's own gc writes them, reads whole."""
    import random
    import shutil

    from dulwich.pack import write_pack_objects
    from dulwich.repo import Repo

    from fwgraph.publish.harvest.objects import read_object

    rng = random.Random(1)
    words = ["".join(rng.choice("abcdefghij") for _ in range(rng.randint(2, 9))) for _ in range(400)]
    lines = [" ".join(rng.choice(words) for _ in range(10)) for _ in range(300)]
    built = GitRepo(tmp_path / "demo")
    for i in range(4):  # every other line changed: each delta inserts kilobytes, which zlib codes dynamically
        for n in range(i % 2, 300, 2):
            lines[n] = f"changed {i} " + " ".join(rng.choice(words) for _ in range(10))
        built.commit({"CHANGES.txt": "\n".join(lines)}, f"2026-01-0{i + 1}")
    built.close()
    with Repo(str(tmp_path / "demo")) as repo:
        store = repo.object_store
        loose = [store[sha] for sha in list(store)]
        write, commit, _ = store.add_pack()
        write_pack_objects(write.write, loose, object_format=store.object_format, deltify=True)
        commit()
    for folder in (tmp_path / "demo" / ".git" / "objects").iterdir():
        if len(folder.name) == 2:
            shutil.rmtree(folder)
    with Repo(str(tmp_path / "demo")) as repo:
        [pack] = repo.object_store.packs
        deltas = sum(1 for entry in pack.data.iter_unpacked() if entry.pack_type_num in (6, 7))
        assert deltas >= 3, "the pack holds no deltas: the test would prove nothing"
        ids = list(repo.object_store)
        assert len(ids) == 12
        for sha in ids:
            assert read_object(repo, sha, 1 << 20, 16 << 20).id == sha
