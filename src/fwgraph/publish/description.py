"""The dataset's description a build writes (void.ttl): VoID statistics, class and property partitions and linksets,
DCAT 3 / DCAT-AP 3.0.1 distributions with SPDX checksums, the SPARQL data service, agents, and the versions.

The description is self-contained, so a DCAT-AP validator needs nothing else: the agents and contact point are
copied from the data, and every IRI used as a value is typed with the class DCAT-AP expects (a licence is a
``dcterms:LicenseDocument``, a media type a ``dcterms:MediaType``, a theme a ``skos:Concept``, …).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, DOAP, OWL, RDF, RDFS, SKOS, VOID, XSD

from fwgraph.core import formats
from fwgraph.core.namespace import (
    ADMS,
    BASE,
    DATASET_IRI,
    DCAT3,
    DCATAP,
    FOAF,
    FW,
    SPDX_TERMS,
    VCARD,
    bind_prefixes,
)
from fwgraph.data.dates import day_span
from fwgraph.publish.dist import GRAPH_DUMP, NOTES_FILE, Version, versioned

#: The data sets fwgraph links to, by the IRI space of their resources: (key, title, IRI space, homepage).
LINK_TARGETS: tuple[tuple[str, str, str, str], ...] = (
    ("wikidata", "Wikidata", "http://www.wikidata.org/entity/", "https://www.wikidata.org/"),
    ("dbpedia", "DBpedia", "http://dbpedia.org/resource/", "https://www.dbpedia.org/"),
    ("pypi", "PyPI, the Python Package Index", "https://pypi.org/project/", "https://pypi.org/"),
    ("github", "GitHub", "https://github.com/", "https://github.com/"),
)
#: What each file of a distribution is, for its dcterms:description.
FILE_DESCRIPTIONS = {
    "fwgraph.ttl": "The whole graph (vocabulary and data) as Turtle.",
    "fwgraph.nt": "The whole graph (vocabulary and data) as N-Triples, one triple a line, canonical blank nodes.",
    "fwgraph.jsonld": "The whole graph (vocabulary and data) as JSON-LD, compacted with the fwgraph context.",
    "fwgraph.context.jsonld": "The JSON-LD context of the JSON-LD dump and of JSON-LD contributions.",
    "ontology.ttl": "The fwgraph vocabulary (OWL/RDFS) as Turtle.",
    "shapes.ttl": "The SHACL shapes that every record and contribution is validated with, as Turtle.",
}
#: The European data theme fwgraph belongs to (EU Publications Office data-theme vocabulary, as DCAT-AP asks).
THEME = URIRef("http://publications.europa.eu/resource/authority/data-theme/TECH")
THEME_SCHEME = URIRef("http://publications.europa.eu/resource/authority/data-theme")
#: Distribution availability (DCAT-AP's planned-availability vocabulary): releases are kept for good
#: ("stable": data will remain available in the long term), the latest files change with every release.
AVAILABILITY = "http://publications.europa.eu/resource/authority/planned-availability/"
AVAILABILITY_LABELS = {"STABLE": "stable", "AVAILABLE": "available"}
#: ADMS licence types of the licences fwgraph uses (DCAT-AP recommends a dcterms:type on a licence).
LICENCE_TYPES = {"https://creativecommons.org/licenses/by/4.0/": ("http://purl.org/adms/licencetype/Attribution",
                                                                   "Attribution")}
#: ADMS publisher types, by the IRI DCAT-AP recommends on an agent.
PUBLISHER_TYPES = {"http://purl.org/adms/publishertype/PrivateIndividual(s)": "Private individual(s)"}
SPARQL_PROTOCOL = URIRef("https://www.w3.org/TR/sparql11-protocol/")
VOCABULARIES = ("http://usefulinc.com/ns/doap#", "http://purl.org/dc/terms/", "http://www.w3.org/2004/02/skos/core#",
                "http://www.w3.org/ns/prov#", "https://schema.org/")


def _int(n: int, datatype: URIRef = XSD.integer) -> Literal:
    return Literal(n, datatype=datatype)


def _copy_closure(source: Graph, target: Graph, node: Any, depth: int = 0) -> None:
    """Copy ``node``'s description (blank nodes followed) from ``source`` into ``target``."""
    for p, o in source.predicate_objects(node):
        target.add((node, p, o))
        if isinstance(o, BNode) and depth < 4:
            _copy_closure(source, target, o, depth + 1)


def _dates(graph: Graph) -> tuple[Literal | None, Literal | None, Literal | None]:
    """(earliest first release year, latest release date, latest record check) found in the data."""
    years = sorted(str(y) for y in graph.objects(None, FW.firstReleaseYear) if isinstance(y, Literal))
    # a release is dated by the day (xsd:date) or, known only from the package index, by the month (xsd:gYearMonth,
    # which DCAT also takes for dcat:endDate): the latest is the one whose span ends last, kept in its own precision
    releases = sorted((span[1], len(str(d)), str(d)) for r in graph.objects(None, FW.latestRelease)
                       for d in graph.objects(r, DOAP.created)
                       if isinstance(d, Literal) and (span := day_span(str(d))) is not None)
    checked = sorted(str(d) for d in graph.objects(None, FW.lastChecked) if isinstance(d, Literal))
    last = releases[-1][2] if releases else None
    return (Literal(years[0], datatype=XSD.gYear) if years else None,
            Literal(last, datatype=XSD.date if len(last) == 10 else XSD.gYearMonth) if last else None,
            Literal(checked[-1], datatype=XSD.date) if checked else None)


def _statistics(void: Graph, dataset: URIRef, graph: Graph) -> None:
    """VoID totals, one class partition per class and one property partition per property."""
    void.set((dataset, VOID.triples, _int(len(graph))))
    void.set((dataset, VOID.entities, _int(len({s for s in graph.subjects() if isinstance(s, URIRef)
                                                and str(s).startswith(BASE)}))))
    classes: dict[Any, set[Any]] = {}
    for s, c in graph.subject_objects(RDF.type):
        classes.setdefault(c, set()).add(s)
    properties = Counter(p for _, p, _ in graph)
    void.set((dataset, VOID.classes, _int(len(classes))))
    void.set((dataset, VOID.properties, _int(len(properties))))
    void.set((dataset, VOID.distinctSubjects, _int(len(set(graph.subjects())))))
    void.set((dataset, VOID.distinctObjects, _int(len(set(graph.objects())))))
    for i, cls in enumerate(sorted(classes, key=str)):
        part = BNode(f"class-partition-{i}")
        void.add((dataset, VOID.classPartition, part))
        void.add((part, VOID["class"], cls))
        void.add((part, VOID.entities, _int(len(classes[cls]))))
    for i, prop in enumerate(sorted(properties, key=str)):
        part = BNode(f"property-partition-{i}")
        void.add((dataset, VOID.propertyPartition, part))
        void.add((part, VOID.property, prop))
        void.add((part, VOID.triples, _int(properties[prop])))


def _linksets(void: Graph, dataset: URIRef, graph: Graph) -> None:
    """One void:Linkset per link target and link predicate, with its triple count."""
    for key, title, space, homepage in LINK_TARGETS:
        by_predicate = Counter(p for _, p, o in graph if isinstance(o, URIRef) and str(o).startswith(space))
        if not by_predicate:
            continue
        target = URIRef(f"{dataset}#{key}")
        void.add((target, RDF.type, VOID.Dataset))
        void.add((target, DCTERMS.title, Literal(title, lang="en")))
        void.add((target, VOID.uriSpace, Literal(space)))
        void.add((target, FOAF.homepage, URIRef(homepage)))
        for prop in sorted(by_predicate, key=str):
            local = str(prop).rsplit("#", 1)[-1].rsplit("/", 1)[-1]
            linkset = URIRef(f"{dataset}#links-{key}-{local}")
            void.add((dataset, VOID.subset, linkset))
            void.add((linkset, RDF.type, VOID.Linkset))
            void.add((linkset, DCTERMS.title, Literal(f"{local} links to {title}", lang="en")))
            void.add((linkset, VOID.subjectsTarget, dataset))
            void.add((linkset, VOID.objectsTarget, target))
            void.add((linkset, VOID.linkPredicate, prop))
            void.add((linkset, VOID.triples, _int(by_predicate[prop])))


def void_description(graph: Graph, files: dict[str, bytes], base: str = BASE,
                     version: Version | None = None, *, versioned_dataset: bool = False) -> Graph:
    """VoID + DCAT for the dataset: statistics, partitions, linksets, distributions with checksums, the endpoint,
    the agents and the versions. ``versioned_dataset``: describe the release itself (``dataset/<version>``, its
    files under ``download/<version>/``) rather than the dataset that always serves the latest data."""
    version = version or Version(name="0.0.0+dev", release=False)
    abstract = URIRef(base + "dataset") if base != BASE else DATASET_IRI
    dataset = versioned("dataset", version.name, base) if versioned_dataset else abstract
    downloads = f"{base}download/{version.name}/" if versioned_dataset else f"{base}download/"
    void = bind_prefixes(Graph())
    for prefix, ns in (("adms", ADMS), ("vcard", VCARD), ("dcatap", DCATAP), ("spdxt", SPDX_TERMS)):
        void.bind(prefix, ns)

    for p, o in graph.predicate_objects(DATASET_IRI):
        void.add((dataset, p, o))
        if p in (DCTERMS.creator, DCTERMS.publisher, DCAT.contactPoint):
            _copy_closure(graph, void, o)
    void.add((dataset, RDF.type, VOID.Dataset))
    void.add((dataset, RDF.type, DCAT.Dataset))

    # -- versions
    void.set((dataset, DCAT3.version, Literal(version.name)))
    void.set((dataset, OWL.versionInfo, Literal(version.name)))
    if version.prior:
        void.add((dataset, DCAT3.previousVersion, versioned("dataset", version.prior, base)))
    if version.issued:
        void.set((dataset, DCTERMS.issued, Literal(version.issued, datatype=XSD.date)))
    if versioned_dataset:
        void.add((dataset, DCAT3.isVersionOf, abstract))
        void.add((dataset, RDFS.seeAlso, URIRef(downloads + NOTES_FILE)))
        void.add((dataset, ADMS.versionNotes, Literal(f"Release {version.name} of fwgraph; what changed since the "
                                                      "release before, with the data diff, is in " + NOTES_FILE,
                                                      lang="en")))
    else:
        for release in version.releases:
            void.add((dataset, DCAT3.hasVersion, versioned("dataset", release, base)))
        if version.latest:
            void.add((dataset, DCAT3.hasCurrentVersion, versioned("dataset", version.latest, base)))

    # -- what the data covers, and when it changed
    start, end, checked = _dates(graph)
    if start is not None or end is not None:
        period = BNode("temporal")
        void.add((dataset, DCTERMS.temporal, period))
        void.add((period, RDF.type, DCTERMS.PeriodOfTime))
        if start is not None:
            void.add((period, DCAT.startDate, start))
        if end is not None:
            void.add((period, DCAT.endDate, end))
    if checked is not None:
        void.set((dataset, DCTERMS.modified, checked))

    # -- VoID
    _statistics(void, dataset, graph)
    void.set((dataset, VOID.uriSpace, Literal(base)))
    void.set((dataset, VOID.sparqlEndpoint, URIRef(base + "sparql")))
    void.set((dataset, VOID.rootResource, URIRef(base + "framework/flask")))
    for example in ("framework/flask", "framework/fastapi", "interface/asgi"):
        void.add((dataset, VOID.exampleResource, URIRef(base + example)))
    for vocab in (*VOCABULARIES, base + "ns#"):
        void.add((dataset, VOID.vocabulary, URIRef(vocab)))
    _linksets(void, dataset, graph)

    # -- the SPARQL endpoint as a DCAT data service
    licence = graph.value(DATASET_IRI, DCTERMS.license)
    service = URIRef(base + "sparql#service")
    void.add((dataset, DCAT.accessService, service))
    void.add((service, RDF.type, DCAT.DataService))
    void.add((service, DCTERMS.title, Literal("fwgraph SPARQL 1.1 query endpoint", lang="en")))
    void.add((service, DCTERMS.description, Literal(
        "A read-only SPARQL 1.1 Query endpoint over the latest fwgraph data, with limits on time, rows and size "
        "stated in its service description.", lang="en")))
    void.add((service, DCAT.endpointURL, URIRef(base + "sparql")))
    void.add((service, DCAT.endpointDescription, URIRef(base + "sparql")))
    void.add((service, DCAT.servesDataset, dataset))
    void.add((service, DCTERMS.conformsTo, SPARQL_PROTOCOL))
    for prop in (DCTERMS.publisher, DCAT.contactPoint, DCAT.keyword, DCAT.theme):
        for value in graph.objects(DATASET_IRI, prop):
            void.add((service, prop, value))
    if licence is not None:
        void.add((service, DCTERMS.license, licence))

    # -- the distributions
    for name in sorted(files):
        data = files[name]
        fmt = formats.by_suffix(name.removesuffix(".gz"))
        dist = URIRef(downloads + name)
        void.add((dataset, DCAT.distribution, dist))
        if name.removesuffix(".gz") in ("fwgraph.ttl", GRAPH_DUMP, "fwgraph.jsonld"):
            void.add((dataset, VOID.dataDump, dist))
        void.add((dist, RDF.type, DCAT.Distribution))
        void.add((dist, DCTERMS.title, Literal(name)))
        description = FILE_DESCRIPTIONS.get(name.removesuffix(".gz"), name)
        if name.endswith(".gz"):
            description += " Compressed with gzip."
        void.add((dist, DCTERMS.description, Literal(description, lang="en")))
        void.add((dist, DCAT.accessURL, dist))
        void.add((dist, DCAT.downloadURL, dist))
        if fmt is not None:
            void.add((dist, DCAT.mediaType, URIRef(fmt.iana)))
            void.add((URIRef(fmt.iana), RDF.type, DCTERMS.MediaType))
            if fmt.w3c:
                void.add((dist, DCTERMS["format"], URIRef(fmt.w3c)))
                void.add((URIRef(fmt.w3c), RDF.type, DCTERMS.MediaTypeOrExtent))
        void.add((dist, DCAT.byteSize, _int(len(data), XSD.nonNegativeInteger)))
        if name.endswith(".gz"):
            void.add((dist, DCAT.compressFormat, URIRef(formats.GZIP.iana)))
            void.add((URIRef(formats.GZIP.iana), RDF.type, DCTERMS.MediaType))
        if licence is not None:
            void.add((dist, DCTERMS.license, licence))
        level = "STABLE" if versioned_dataset else "AVAILABLE"
        availability = URIRef(AVAILABILITY + level)
        void.add((dist, DCATAP.availability, availability))
        void.add((availability, RDF.type, SKOS.Concept))
        void.add((availability, SKOS.prefLabel, Literal(AVAILABILITY_LABELS[level], lang="en")))
        if version.issued and versioned_dataset:
            void.add((dist, DCTERMS.issued, Literal(version.issued, datatype=XSD.date)))
        checksum = BNode(f"checksum-{name}")
        void.add((dist, SPDX_TERMS.checksum, checksum))
        void.add((checksum, RDF.type, SPDX_TERMS.Checksum))
        void.add((checksum, SPDX_TERMS.algorithm, SPDX_TERMS.checksumAlgorithm_sha256))
        digest = Literal(hashlib.sha256(data).hexdigest(), datatype=XSD.hexBinary)
        void.add((checksum, SPDX_TERMS.checksumValue, digest))

    # -- the classes DCAT-AP expects of the values used above
    if licence is not None:
        void.add((licence, RDF.type, DCTERMS.LicenseDocument))
        if str(licence) in LICENCE_TYPES:
            kind, label = LICENCE_TYPES[str(licence)]
            void.add((licence, DCTERMS.type, URIRef(kind)))
            void.add((URIRef(kind), RDF.type, SKOS.Concept))
            void.add((URIRef(kind), SKOS.prefLabel, Literal(label, lang="en")))
    for agent_type in set(void.objects(None, DCTERMS.type)) & {URIRef(t) for t in PUBLISHER_TYPES}:
        void.add((agent_type, RDF.type, SKOS.Concept))
        void.add((agent_type, SKOS.prefLabel, Literal(PUBLISHER_TYPES[str(agent_type)], lang="en")))
    for page in graph.objects(DATASET_IRI, DCAT.landingPage):
        void.add((page, RDF.type, FOAF.Document))
    void.add((SPARQL_PROTOCOL, RDF.type, DCTERMS.Standard))
    void.add((SPARQL_PROTOCOL, DCTERMS.title, Literal("SPARQL 1.1 Protocol", lang="en")))
    for theme in set(graph.objects(DATASET_IRI, DCAT.theme)):
        void.add((theme, RDF.type, SKOS.Concept))
        if theme == THEME:
            void.add((theme, SKOS.prefLabel, Literal("Science and technology", lang="en")))
            void.add((theme, SKOS.inScheme, THEME_SCHEME))
    return void




def as_served(void: Graph, endpoint: str) -> Graph:
    """The description as a running service serves it: the SPARQL endpoint named by the URL that service
    answers at (``endpoint``), which accepts POST, rather than the redirecting canonical IRI (a 307 there keeps
    a POST body only for clients that follow it: Python's urllib, and so SPARQLWrapper, refuses to)."""
    served = bind_prefixes(Graph())
    for prefix, ns in void.namespaces():
        served.bind(prefix, ns, override=True)
    replaced = {VOID.sparqlEndpoint, DCAT.endpointURL, DCAT.endpointDescription}
    for s, p, o in void:
        served.add((s, p, URIRef(endpoint) if p in replaced else o))
    return served


__all__ = ["LINK_TARGETS", "as_served", "void_description"]
