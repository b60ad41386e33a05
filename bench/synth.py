"""Synthetic, shape-valid fwgraph source trees at N frameworks, for the scale benchmark.

    python bench/synth.py --frameworks 10000 --out /tmp/fwgraph-10k

writes <out>/ontology/ (copied), <out>/data/*.ttl (concepts, interfaces, features, sources, dataset:
copied) and <out>/data/frameworks/: the 24 real records (so the example queries that name Flask or
the chart still have their subjects) plus N synthetic records in files of at most 10,000 records
each, shaped like the real ones (label, description, homepage, repository, licence, PyPI name,
first release, latest release, status, interfaces, async support, features, sameAs, sources).
Values are drawn deterministically (seeded) from the real vocabularies, so the same N always gives
the same bytes. Also writes <out>/contribution.ttl: one new, valid framework record to validate
against the tree.
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PER_FILE = 10_000

PREFIXES = """@prefix fw:      <https://w3id.org/fwgraph/ns#> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
@prefix owl:     <http://www.w3.org/2002/07/owl#> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix doap:    <http://usefulinc.com/ns/doap#> .
@prefix schema:  <https://schema.org/> .
@prefix framework: <https://w3id.org/fwgraph/framework/> .
@prefix iface:   <https://w3id.org/fwgraph/interface/> .
@prefix feature: <https://w3id.org/fwgraph/feature/> .
@prefix async:   <https://w3id.org/fwgraph/async/> .
@prefix status:  <https://w3id.org/fwgraph/status/> .

"""

INTERFACES = [["wsgi"], ["asgi"], ["own-server"], ["wsgi", "asgi"], ["twisted"], ["wsgi", "twisted"],
              ["rsgi", "asgi"], ["own-server", "asgi"]]
INTERFACE_WEIGHTS = [11, 12, 6, 3, 2, 2, 1, 1]
ASYNC = ["yes", "no", "via-twisted", "run-to-completion", "asgi-in-newer-versions"]
ASYNC_WEIGHTS = [21, 10, 5, 1, 1]
STATUS = ["active", "unmaintained", "slow", "limited-maintenance"]
STATUS_WEIGHTS = [16, 4, 4, 1]
FEATURES = ("websockets openapi dependency-injection orm admin-ui templating jinja2 background-tasks graphql "
            "type-hints type-validation mvc mail queues task-scheduling security url-routing middleware "
            "extensions async-sqlalchemy http-parsing-optimizations server-sent-events flask-compatible-api "
            "tornado-like-api fast ultra-fast lightweight simple micro-framework full-featured api-focused "
            "type-safe low-level twisted-based").split()
LICENCES = ["MIT", "BSD-3-Clause", "BSD-2-Clause", "Apache-2.0", "LGPL-3.0-only", "GPL-3.0-or-later", "MPL-2.0"]
WORDS = ("fast small async typed modern classic minimal full-stack pluggable secure simple tiny robust "
         "reactive declarative modular").split()


def record(i: int, rng: random.Random) -> str:
    """One framework record in the shape of data/frameworks/*.ttl."""
    slug = f"synth-{i:06d}"
    name = f"Synth{i}"
    ifaces = rng.choices(INTERFACES, INTERFACE_WEIGHTS)[0]
    asy = rng.choices(ASYNC, ASYNC_WEIGHTS)[0]
    status = rng.choices(STATUS, STATUS_WEIGHTS)[0]
    feats = rng.sample(FEATURES, rng.randint(1, 5))
    words = " ".join(rng.sample(WORDS, 2))
    year = rng.randint(2005, 2025)
    lines = [
        f"framework:{slug} a fw:WebFramework, doap:Project ;",
        f'    rdfs:label "{name}" ;',
        f'    dcterms:description "A {words} Python web framework (synthetic record {i})."@en ;',
        f"    doap:homepage <https://{slug}.example.org/> ;",
        f"    doap:repository [ a doap:GitRepository ; doap:browse <https://github.com/synth/{slug}> ] ;",
        f"    schema:codeRepository <https://github.com/synth/{slug}> ;",
        '    doap:programming-language "Python" ;',
        f"    doap:license <http://spdx.org/licenses/{rng.choice(LICENCES)}> ;",
        f'    fw:pypiDistribution "{slug}" ;',
        f"    doap:download-page <https://pypi.org/project/{slug}/> ;",
        f'    fw:firstReleaseYear "{year}"^^xsd:gYear ;',
        f'    fw:latestRelease [ a doap:Version ; doap:revision "{rng.randint(0, 9)}.{rng.randint(0, 30)}.'
        f'{rng.randint(0, 9)}" ; doap:created "{rng.randint(max(year, 2010), 2026)}-{rng.randint(1, 12):02d}-'
        f'{rng.randint(1, 28):02d}"^^xsd:date ] ;',
        f"    fw:maintenanceStatus status:{status} ;",
        "    fw:interface " + ", ".join(f"iface:{x}" for x in ifaces) + " ;",
        f"    fw:asyncSupport async:{asy} ;",
        "    fw:feature " + ", ".join(f"feature:{f}" for f in feats) + " ;",
    ]
    if rng.random() < 0.6:
        lines.append(f"    owl:sameAs <http://www.wikidata.org/entity/Q{90_000_000 + i}> ;")
    lines.append(f"    dcterms:source <https://github.com/synth/{slug}>, <https://pypi.org/project/{slug}/> .")
    return "\n".join(lines) + "\n\n"


CONTRIBUTION = PREFIXES + """framework:newcomer a fw:WebFramework, doap:Project ;
    rdfs:label "Newcomer" ;
    dcterms:description "A new framework contributed to the graph (benchmark contribution)."@en ;
    doap:homepage <https://newcomer.example.org/> ;
    doap:repository [ a doap:GitRepository ; doap:browse <https://github.com/synth/newcomer> ] ;
    schema:codeRepository <https://github.com/synth/newcomer> ;
    doap:license <http://spdx.org/licenses/MIT> ;
    fw:pypiDistribution "newcomer" ;
    fw:firstReleaseYear "2024"^^xsd:gYear ;
    fw:latestRelease [ a doap:Version ; doap:revision "0.3.0" ; doap:created "2026-01-15"^^xsd:date ] ;
    fw:maintenanceStatus status:active ;
    fw:interface iface:asgi ;
    fw:asyncSupport async:yes ;
    fw:feature feature:websockets, feature:openapi ;
    owl:sameAs <http://www.wikidata.org/entity/Q123456789> ;
    dcterms:source <https://github.com/synth/newcomer> .
"""


def write_tree(out: Path | str, n: int, seed: int = 4) -> Path:
    """Write the source tree for ``n`` synthetic frameworks into ``out`` (replaced if present)."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(ROOT / "ontology", out / "ontology")
    shutil.copytree(ROOT / "data", out / "data")  # shared data + the 24 real framework records
    rng = random.Random(seed)
    frameworks = out / "data" / "frameworks"
    for start in range(0, n, PER_FILE):
        stop = min(n, start + PER_FILE)
        with open(frameworks / f"zz-synthetic-{start // PER_FILE:03d}.ttl", "w", encoding="utf-8") as fh:
            fh.write(f"# Synthetic framework records {start + 1}..{stop} (bench/synth.py, seed {seed}).\n")
            fh.write(PREFIXES)
            for i in range(start + 1, stop + 1):
                fh.write(record(i, rng))
    (out / "contribution.ttl").write_text(CONTRIBUTION, encoding="utf-8")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frameworks", "-n", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=4)
    args = ap.parse_args()
    path = write_tree(args.out, args.frameworks, args.seed)
    print(f"wrote {path} with {args.frameworks} synthetic frameworks")


if __name__ == "__main__":
    main()
