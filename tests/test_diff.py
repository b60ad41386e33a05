"""`fwgraph diff OLD NEW` on real builds: none between identical builds (blank node labels and line order do not
count), each change per resource otherwise, in text, Markdown and JSON; unreadable builds are exit 2."""

from __future__ import annotations

import gzip
import json
import random
import re

import pytest

FLASK = "https://w3id.org/fwgraph/framework/flask"


def _relabelled(nt: bytes) -> bytes:
    """The same graph with other blank node labels, lines shuffled."""
    lines = re.sub(rb"_:([A-Za-z0-9]+)", rb"_:other\1x", nt).splitlines()
    random.Random(7).shuffle(lines)
    return b"\n".join(lines) + b"\n"


def test_identical_builds_have_no_changes(runner, dist, rebuilt):
    result = runner("diff", str(dist), str(rebuilt))
    assert result.exit_code == 0, result.output
    assert "no changes" in result.output


def test_blank_node_labels_and_order_are_no_change(runner, dist, tmp_path):
    copy = tmp_path / "relabelled.nt"
    copy.write_bytes(_relabelled((dist / "fwgraph.nt").read_bytes()))
    assert copy.read_bytes() != (dist / "fwgraph.nt").read_bytes()
    result = runner("diff", str(dist), str(copy), "--format", "json")
    assert result.exit_code == 0 and json.loads(result.output)["identical"] is True


def test_changes_are_reported_per_resource(runner, dist, tmp_path):
    text = (dist / "fwgraph.nt").read_text()
    latest = next(line.split(" ")[2] for line in text.splitlines()
                  if line.startswith(f"<{FLASK}> <https://w3id.org/fwgraph/ns#latestRelease> "))
    # only Flask's latest release: other projects' release histories have a 3.1.3 too
    changed = "\n".join(line.replace('"3.1.3"', '"3.1.4"') if line.startswith(latest + " ") else line
                        for line in text.splitlines()) + "\n"
    changed += f'<{FLASK}-next> <http://www.w3.org/2000/01/rdf-schema#label> "Flask Next" .\n'
    changed = "\n".join(line for line in changed.splitlines() if "/framework/vibora>" not in line.split(" ")[0])
    new = tmp_path / "new.nt.gz"
    new.write_bytes(gzip.compress((changed + "\n").encode()))
    result = runner("diff", str(dist), str(new))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "1 resource(s) added, 1 removed" in out
    assert "+ framework:flask-next  (Flask Next)" in out and "- framework:vibora  (Vibora)" in out
    flask = out.split("~ framework:flask  (Flask)")[1]
    assert '- fw:latestRelease [ doap:created "2026-02-18"^^xsd:date ; doap:revision "3.1.3"' in flask
    assert '+ fw:latestRelease [ doap:created "2026-02-18"^^xsd:date ; doap:revision "3.1.4"' in flask
    doc = json.loads(runner("diff", str(dist), str(new), "--format", "json").output)
    assert doc["added"] == [{"iri": FLASK + "-next", "label": "Flask Next"}]
    # vibora's blank nodes (its latest release, repository) stay behind unattached: reported, not lost
    assert [c["iri"] for c in doc["changed"]] == ["(blank nodes not attached to a resource)", FLASK]
    markdown = runner("diff", str(dist), str(new), "--format", "markdown").output
    assert "### Resources added" in markdown and "- `framework:flask-next` Flask Next" in markdown


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p / "missing", "does not exist"),
    (lambda p: p, "holds no fwgraph.nt"),
    (lambda p: (p / "notes.txt").write_text("hello") and p / "notes.txt", "not an RDF dump"),
    (lambda p: (p / "broken.nt").write_text("<a> <b> .\n") and p / "broken.nt", "broken.nt"),
    (lambda p: (p / "broken.nt.gz").write_bytes(b"not gzip") and p / "broken.nt.gz", "cannot read"),
], ids=["missing", "empty-directory", "not-rdf", "syntax-error", "bad-gzip"])
def test_unreadable_builds_are_exit_2(runner, dist, tmp_path, make, message):
    target = make(tmp_path)
    result = runner("diff", str(dist), str(target))
    assert result.exit_code == 2 and message in result.output, result.output
