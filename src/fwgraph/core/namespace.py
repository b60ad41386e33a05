"""The fwgraph IRI scheme and namespaces, with prefix bindings in one place."""

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rdflib import Graph, Literal, Namespace
from rdflib.namespace import (
    DCAT,
    DCTERMS,
    DOAP,
    OWL,
    PROV,
    RDF,
    RDFS,
    SDO,
    SH,
    SKOS,
    VOID,
    XSD,
    DefinedNamespace,
    NamespaceManager,
)
from rdflib.term import URIRef

#: The canonical base of every fwgraph IRI. Resources are ``BASE + kind + "/" + slug``.
BASE = "https://w3id.org/fwgraph/"


class FW(DefinedNamespace):
    """The fwgraph vocabulary (ontology/fwgraph.ttl); a typo in a term raises at import time."""

    _NS = Namespace(BASE + "ns#")
    _fail = True

    WebFramework: URIRef
    ServerInterface: URIRef
    Feature: URIRef
    AsyncSupport: URIRef
    PerformanceTier: URIRef
    MaintenanceStatus: URIRef
    ExecutionModel: URIRef
    Synchrony: URIRef
    ChartRow: URIRef
    Correction: URIRef
    ApplicationServer: URIRef
    Library: URIRef
    TemplateEngine: URIRef
    ValidationLibrary: URIRef
    ORM: URIRef
    Protocol: URIRef
    WorkerModel: URIRef
    MissingFact: URIRef
    CuratorOverride: URIRef
    StaleFact: URIRef
    SecurityAdvisory: URIRef
    VersionRange: URIRef
    FeatureSupport: URIRef
    SupportLevel: URIRef

    interface: URIRef
    usedBy: URIRef
    asyncSupport: URIRef
    asyncSince: URIRef
    performanceTier: URIRef
    feature: URIRef
    extensionFeature: URIRef
    maintenanceStatus: URIRef
    firstReleaseYear: URIRef
    latestRelease: URIRef
    lastCommit: URIRef
    releaseHistoryExcludes: URIRef
    pypiDistribution: URIRef
    buildsOn: URIRef
    reimplementsApiOf: URIRef
    synchrony: URIRef
    supportsLongLivedConnections: URIRef
    executionModel: URIRef
    performanceNote: URIRef
    concurrency: URIRef
    statefulness: URIRef
    scalability: URIRef
    modernUse: URIRef
    typicalUsers: URIRef
    extends: URIRef
    specification: URIRef
    providedBy: URIRef
    claimAbout: URIRef
    rowNumber: URIRef
    onProperty: URIRef
    chartValue: URIRef
    currentValue: URIRef
    implementsInterface: URIRef
    interfaceVersion: URIRef
    protocol: URIRef
    workerModel: URIRef
    deploysOn: URIRef
    recommendedServer: URIRef
    requiresPython: URIRef
    pythonVersion: URIRef
    typed: URIRef
    nativeCore: URIRef
    templateEngine: URIRef
    validationLibrary: URIRef
    orm: URIRef
    techEmpowerImplementation: URIRef
    lastChecked: URIRef
    missingFact: URIRef
    curatorOverride: URIRef
    harvestedValue: URIRef
    affects: URIRef
    affectedRange: URIRef
    introduced: URIRef
    fixed: URIRef
    lastAffected: URIRef
    fixedIn: URIRef
    affectedVersion: URIRef
    affectsLatestRelease: URIRef
    withdrawn: URIRef
    featureSupport: URIRef
    supportedFeature: URIRef
    supportLevel: URIRef
    viaPackage: URIRef

    # The PyPI download series (W3C Data Cube): its structure, dimensions, measure and attributes.
    pypiDownloadsStructure: URIRef
    project: URIRef
    snapshotDate: URIRef
    downloadCount: URIRef
    downloadRank: URIRef
    inTopList: URIRef
    downloadsBelow: URIRef
    topListSize: URIRef

    # Benchmark results (W3C Data Cube): published ones and the harness's runs.
    benchmarkStructure: URIRef
    BenchmarkMethod: URIRef
    benchmarkScenario: URIRef
    resultDate: URIRef
    benchmarkedPackage: URIRef
    benchmarkedFramework: URIRef
    packageVersion: URIRef
    requestsPerSecond: URIRef
    requestsCompleted: URIRef
    latencyP50: URIRef
    latencyP75: URIRef
    latencyMean: URIRef
    benchmarkMethod: URIRef
    machine: URIRef
    serverPackage: URIRef
    serverVersion: URIRef
    serverRole: URIRef
    pythonRuntime: URIRef
    latencyP99: URIRef
    requestsPerSecondMin: URIRef
    requestsPerSecondMax: URIRef
    errorCount: URIRef
    rounds: URIRef
    harnessCommit: URIRef


class DCAT3(DefinedNamespace):
    """The DCAT 3 terms rdflib's DCAT namespace lacks (versions), and the ones used with them."""

    _NS = Namespace("http://www.w3.org/ns/dcat#")
    _fail = True

    version: URIRef
    previousVersion: URIRef
    hasVersion: URIRef
    hasCurrentVersion: URIRef
    isVersionOf: URIRef


FWSH = Namespace(BASE + "shapes#")
ONTOLOGY_IRI = URIRef(BASE + "ns")
SHAPES_IRI = URIRef(BASE + "shapes")
DATASET_IRI = URIRef(BASE + "dataset")
#: The qb:DataSet of monthly PyPI downloads; its observations are ``DOWNLOADS_IRI/<slug>/<YYYY-MM-DD>``.
DOWNLOADS_IRI = URIRef(BASE + "pypi-downloads")
#: The qb:DataSet of klen/py-frameworks-bench's published results; observations ``<it>/<date>/<scenario>/<package>``.
PUBLISHED_BENCH_IRI = URIRef(BASE + "py-frameworks-bench")
#: The qb:DataSet of this project's own runs (bench/run_frameworks.py); a run's method node is ``<it>/<date>``.
RUNS_IRI = URIRef(BASE + "bench-runs")
CONTEXT_IRI = BASE + "context.jsonld"
WD = Namespace("http://www.wikidata.org/entity/")
DBR = Namespace("http://dbpedia.org/resource/")
SPDX = Namespace("http://spdx.org/licenses/")
#: SPDX's own vocabulary (checksums), not to be confused with its licence list above.
SPDX_TERMS = Namespace("http://spdx.org/rdf/terms#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
DCATAP = Namespace("http://data.europa.eu/r5r/")
#: The W3C RDF Data Cube vocabulary (the PyPI download series).
QB = Namespace("http://purl.org/linked-data/cube#")



@dataclass(frozen=True)
class RecordKind:
    """A kind of record (one file per resource in ``data/<folder>/``): the class that makes a resource one and the
    segment of its IRIs, ``BASE + name + "/" + slug``."""

    name: str
    cls: URIRef
    folder: str
    plural: str

    @property
    def namespace(self) -> str:
        return BASE + self.name + "/"

    def iri(self, slug: str) -> URIRef:
        return URIRef(self.namespace + slug)


#: The record kinds, in the order their slugs are claimed (a framework's before a server's of the same name).
RECORD_KINDS: dict[str, RecordKind] = {k.name: k for k in (
    RecordKind("framework", FW.WebFramework, "frameworks", "Frameworks"),
    RecordKind("server", FW.ApplicationServer, "servers", "Servers"),
    RecordKind("library", FW.Library, "libraries", "Libraries"),
)}
#: Every path segment below BASE that holds resources named by a slug: the records', then the concepts'.
SEGMENTS: tuple[str, ...] = (*RECORD_KINDS, "protocol", "worker-model", "interface", "feature", "async", "tier",
                             "status", "support", "chart-row", "correction", "source")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")


def segment_and_slug(iri: str) -> tuple[str, str] | None:
    """``("server", "granian")`` for ``BASE + "server/granian"``: a resource of one of the :data:`SEGMENTS`.

    >>> segment_and_slug(BASE + "server/granian"), segment_and_slug(BASE + "framework/flask/release/3.0")
    (('server', 'granian'), None)
    """
    segment, _, slug = iri.removeprefix(BASE).partition("/")
    return (segment, slug) if iri.startswith(BASE) and segment in SEGMENTS and _SLUG.fullmatch(slug) else None


#: Prefixes used in serialisations, query editors and the JSON-LD context.
PREFIXES: dict[str, str] = {
    "fw": str(FW),
    "fwsh": str(FWSH),
    "framework": BASE + "framework/",
    "iface": BASE + "interface/",
    "feature": BASE + "feature/",
    "async": BASE + "async/",
    "tier": BASE + "tier/",
    "status": BASE + "status/",
    "support": BASE + "support/",
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "skos": str(SKOS),
    "dcterms": str(DCTERMS),
    "doap": str(DOAP),
    "prov": str(PROV),
    "schema": str(SDO),
    "void": str(VOID),
    "dcat": str(DCAT),
    "sh": str(SH),
    "wd": str(WD),
    "dbr": str(DBR),
    "spdx": str(SPDX),
    "foaf": str(FOAF),
    "qb": str(QB),
}


def bind_prefixes(graph: Graph) -> Graph:
    """Bind the fwgraph prefixes on ``graph`` (replacing rdflib's defaults) and return it."""
    for prefix, iri in PREFIXES.items():
        graph.bind(prefix, iri, override=True, replace=True)
    return graph


#: The one namespace manager behind :func:`curie`: the fwgraph prefixes and no others (not rdflib's defaults).
_MANAGER = NamespaceManager(Graph(bind_namespaces="none"), bind_namespaces="none")
for _prefix, _iri in PREFIXES.items():
    _MANAGER.bind(_prefix, _iri)
#: rdflib's manager caches what it has split; the server calls ``curie`` from several threads at once.
_MANAGER_LOCK = threading.Lock()
#: A local name written bare in Turtle and SPARQL without escapes (rdflib's manager also accepts ``(``, ``)``, ``%``).
_BARE_LOCAL = re.compile(r"[\w-]+(?:\.+[\w-]+)*")


@lru_cache(maxsize=4096)
def curie(iri: str) -> str | None:
    """``iri`` as ``prefix:local`` with the fwgraph prefixes (rdflib's NamespaceManager), or None.

    None also when the local name would need escapes, so every answer can be pasted into Turtle or SPARQL.

    >>> curie("https://w3id.org/fwgraph/ns#WebFramework"), curie("http://dbpedia.org/resource/Flask_(web_framework)")
    ('fw:WebFramework', None)
    """
    try:
        with _MANAGER_LOCK:
            name = _MANAGER.curie(iri, generate=False)
    except (ValueError, KeyError):
        return None
    return name if _BARE_LOCAL.fullmatch(name.partition(":")[2]) else None


def curie_or_iri(iri: str, brackets: bool = False) -> str:
    """:func:`curie`, or else the IRI itself: bare for display, between ``<>`` (as Turtle writes it) with
    ``brackets``."""
    return curie(iri) or (f"<{iri}>" if brackets else iri)


#: The predicates that name a resource, most preferred first.
LABEL_PREDICATES = (RDFS.label, SKOS.prefLabel, DCTERMS.title)


def label_of(graph: Graph, node: Any, *predicates: Any) -> str | None:
    """The first English (or untagged) literal of the first of ``predicates`` that has a literal, or None.

    Without ``predicates``, :data:`LABEL_PREDICATES`. Literals are sorted first, so every process picks the same one;
    a predicate with only other languages gives its first literal.

    >>> g = Graph().parse(data='<urn:x> <http://www.w3.org/2000/01/rdf-schema#label> "Flasque"@fr, "Flask"@en .')
    >>> label_of(g, URIRef("urn:x"))
    'Flask'
    """
    for predicate in predicates or LABEL_PREDICATES:
        values = sorted((o for o in graph.objects(node, predicate) if isinstance(o, Literal)), key=str)
        english = [v for v in values if v.language in (None, "en")]
        if english or values:
            return str((english or values)[0])
    return None


def sparql_prologue() -> str:
    """The PREFIX lines for every fwgraph prefix, for query editors and examples."""
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


#: English labels of the terms fwgraph reuses from other vocabularies, as its pages show them (fwgraph's own
#: terms are labelled in the vocabulary). A term missing here is shown by its compact name.
REUSED_TERM_LABELS: dict[str, str] = {
    str(RDF.type): "Type", str(RDFS.label): "Name", str(RDFS.comment): "Note", str(RDFS.seeAlso): "See also",
    str(RDFS.isDefinedBy): "Defined by", str(OWL.sameAs): "Same as", str(OWL.versionInfo): "Version",
    str(OWL.versionIRI): "This version", str(OWL.priorVersion): "Previous version",
    str(DCTERMS.title): "Title", str(DCTERMS.description): "Description", str(DCTERMS.source): "Source",
    str(DCTERMS.identifier): "Identifier", str(DCTERMS.issued): "Issued", str(DCTERMS.modified): "Modified",
    str(DCTERMS.license): "Licence", str(DCTERMS.created): "Created", str(DCTERMS.creator): "Creator",
    str(DCTERMS.rights): "Rights", str(DCTERMS.publisher): "Publisher", str(DCTERMS.date): "Date",
    str(DCTERMS.subject): "Subject", str(DCTERMS.conformsTo): "Conforms to", str(DCTERMS.isPartOf): "Part of",
    str(DCTERMS.hasPart): "Has part", str(DCTERMS.references): "References", str(DCTERMS.replaces): "Replaces",
    str(SDO.alternateName): "Also known as", str(SDO.description): "Description", str(SDO.citation): "Citation",
    str(DOAP.license): "Licence", str(DOAP.homepage): "Homepage", str(DOAP.repository): "Repository",
    str(DOAP.browse): "Browse", str(DOAP.location): "Location", str(DOAP.created): "Released",
    str(DOAP.revision): "Version", str(DOAP.release): "Release", str(DOAP.name): "Name",
    str(DOAP["programming-language"]): "Programming language", str(DOAP["download-page"]): "Download page",
    str(DOAP["bug-database"]): "Issue tracker", str(DOAP.Version): "Version", str(DOAP.Project): "Project",
    str(DOAP.GitRepository): "Git repository", str(SDO.codeRepository): "Code repository",
    str(SDO.softwareHelp): "Documentation", str(SDO.url): "Web address", str(SDO.name): "Name",
    str(SKOS.prefLabel): "Name", str(SKOS.altLabel): "Also known as", str(SKOS.definition): "Definition",
    str(SKOS.broader): "Broader", str(SKOS.inScheme): "In scheme", str(SKOS.Concept): "Concept",
    str(SKOS.ConceptScheme): "Concept scheme", str(SKOS.member): "Member",
    str(PROV.wasDerivedFrom): "Derived from", str(PROV.Entity): "Entity",
    str(QB.dataSet): "Data set", str(QB.Observation): "Observation", str(QB.structure): "Structure",
    str(VOID.Dataset): "Dataset", str(DCAT.Dataset): "Dataset", str(OWL.Ontology): "Ontology",
    str(VOID.triples): "Triples", str(VOID.entities): "Entities", str(VOID.classes): "Classes",
    str(VOID.properties): "Properties", str(VOID.distinctSubjects): "Distinct subjects",
    str(VOID.distinctObjects): "Distinct objects", str(VOID.sparqlEndpoint): "SPARQL endpoint",
    str(VOID.dataDump): "Data dump", str(VOID.uriSpace): "IRI space", str(VOID.exampleResource): "Example resource",
    str(VOID.vocabulary): "Vocabulary used", str(VOID.subset): "Subset", str(VOID.classPartition): "Class partition",
    str(VOID.propertyPartition): "Property partition", str(VOID["class"]): "Class", str(VOID.property): "Property",
    str(VOID.linkPredicate): "Link property", str(VOID.target): "Target", str(VOID.feature): "Feature",
    str(VOID.rootResource): "Root resource", str(VOID.Linkset): "Linkset",
    str(DCAT.distribution): "Distribution", str(DCAT.downloadURL): "Download address",
    str(DCAT.accessURL): "Access address", str(DCAT.mediaType): "Media type", str(DCAT.byteSize): "Size (bytes)",
    str(DCAT.keyword): "Keyword", str(DCAT.theme): "Theme", str(DCAT.landingPage): "Landing page",
    str(DCAT.contactPoint): "Contact", str(DCAT.Distribution): "Distribution",
    str(DCAT.compressFormat): "Compression", str(DCAT.packageFormat): "Package",
    str(DCTERMS.bibliographicCitation): "How to cite", str(DCTERMS.accrualPeriodicity): "Updated",
    str(DCTERMS.temporal): "Period", str(DCTERMS.spatial): "Place", str(DCTERMS.language): "Language",
    str(DCTERMS.format): "Format", str(DCTERMS.hasVersion): "Has version", str(DCTERMS.isVersionOf): "Version of",
    str(PROV.wasGeneratedBy): "Generated by", str(PROV.generatedAtTime): "Generated at",
    str(SDO.version): "Version", str(SDO.license): "Licence", str(DCTERMS.type): "Kind",
    str(VOID.objectsTarget): "Links to", str(VOID.subjectsTarget): "Links from",
    str(DCAT) + "accessService": "Access service", str(DCAT) + "endDate": "End", str(DCAT) + "startDate": "Start",
    str(DCAT) + "endpointDescription": "Endpoint description", str(DCAT) + "endpointURL": "Endpoint address",
    str(DCAT) + "hasCurrentVersion": "Current version", str(DCAT) + "hasVersion": "Release",
    str(DCAT) + "previousVersion": "Previous version", str(DCAT) + "servesDataset": "Serves",
    str(FOAF.homepage): "Homepage", str(FOAF.name): "Name", str(DCAT) + "version": "Version",
    "http://data.europa.eu/r5r/availability": "Availability",
    "http://spdx.org/rdf/terms#algorithm": "Algorithm", "http://spdx.org/rdf/terms#checksum": "Checksum",
    "http://spdx.org/rdf/terms#checksumValue": "Checksum value", "http://www.w3.org/2006/vcard/ns#fn": "Name",
    "http://www.w3.org/2006/vcard/ns#hasURL": "Web address",
}
