"""schema.org markup generated from the graph, for search engines: a ``Dataset`` (with a ``DataDownload`` per
distribution) from the dataset description, ``SoftwareSourceCode`` for frameworks and libraries,
``SoftwareApplication`` for servers and ``DefinedTerm`` for concepts — plain JSON for a
``<script type="application/ld+json">`` data block.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, DOAP, OWL, RDF, RDFS, SDO, SKOS, VOID

from fwgraph.core import formats
from fwgraph.core.namespace import DCAT3, FOAF, FW, label_of

CONTEXT = "https://schema.org"
#: Maps a canonical IRI to the IRI the public sees (the configured base); the identity by default.
Public = Callable[[str], str]


def _iris(graph: Graph, node: Any, pred: Any) -> list[str]:
    return sorted(str(o) for o in graph.objects(node, pred) if isinstance(o, URIRef))


def _agent(graph: Graph, node: Any) -> dict[str, Any] | None:
    name = label_of(graph, node, FOAF.name, RDFS.label) if not isinstance(node, Literal) else str(node)
    if name is None:
        return None
    agent: dict[str, Any] = {"@type": "Organization", "name": name}
    homepage = graph.value(node, FOAF.homepage) if not isinstance(node, Literal) else None
    if homepage is not None:
        agent["url"] = str(homepage)
    return agent


def _drop_empty(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if v not in (None, [], "")}


def dataset(void: Graph, dataset_iri: str, public: Public = str, canonical: str | None = None) -> dict[str, Any]:
    """A schema.org ``Dataset`` for the dataset described in ``void`` (the build's VoID/DCAT description).

    ``citation`` is the dataset's ``dcterms:bibliographicCitation``; ``sameAs`` its persistent IRI ``canonical``
    (w3id) when the page names it by the serving host, and any ``owl:sameAs`` / ``schema:sameAs`` (a release DOI)
    it states; ``includedInDataCatalog`` each ``dcat:Catalog`` listing it (``dcat:dataset``), only where one does.
    """
    node = URIRef(dataset_iri)
    downloads = []
    for dist in sorted(void.objects(node, DCAT.distribution), key=str):
        media = void.value(dist, DCAT.mediaType)
        size = void.value(dist, DCAT.byteSize)
        encoding = str(media).rsplit("/media-types/", 1)[-1] if media is not None else None
        if void.value(dist, DCAT.compressFormat) is not None:
            encoding = formats.GZIP.media_type
        downloads.append(_drop_empty({
            "@type": "DataDownload",
            "name": label_of(void, dist, DCTERMS.title),
            "description": label_of(void, dist, DCTERMS.description),
            "contentUrl": public(str(void.value(dist, DCAT.downloadURL) or dist)),
            "encodingFormat": encoding,
            "contentSize": f"{size} B" if isinstance(size, Literal) else None,
        }))
    period = void.value(node, DCTERMS.temporal)
    coverage = None
    if period is not None:
        start, end = void.value(period, DCAT.startDate), void.value(period, DCAT.endDate)
        coverage = f"{start or '..'}/{end or '..'}"
    agents = [a for a in (_agent(void, o) for o in void.objects(node, DCTERMS.creator)) if a]
    publishers = [a for a in (_agent(void, o) for o in void.objects(node, DCTERMS.publisher)) if a]
    licence = void.value(node, DCTERMS.license)
    landing = void.value(node, DCAT.landingPage)
    doc = {
        "@context": CONTEXT,
        "@type": "Dataset",
        "@id": public(dataset_iri),
        "name": label_of(void, node, DCTERMS.title, RDFS.label),
        "description": label_of(void, node, DCTERMS.description),
        "url": public(str(landing)) if landing is not None else public(dataset_iri),
        "identifier": public(dataset_iri),
        "license": str(licence) if licence is not None else None,
        "isAccessibleForFree": True,
        "creator": agents,
        "publisher": publishers[0] if publishers else None,
        "version": label_of(void, node, DCAT3.version, OWL.versionInfo),
        "datePublished": label_of(void, node, DCTERMS.issued),
        "dateModified": label_of(void, node, DCTERMS.modified),
        "keywords": sorted(str(k) for k in void.objects(node, DCAT.keyword)),
        "temporalCoverage": coverage,
        "distribution": downloads,
        "hasPart": None,
        "citation": label_of(void, node, DCTERMS.bibliographicCitation),
        "sameAs": [*([canonical] if canonical and canonical != dataset_iri else []),
                   *_iris(void, node, OWL.sameAs), *_iris(void, node, SDO.sameAs)],
        "includedInDataCatalog": [_drop_empty({"@type": "DataCatalog", "@id": str(c), "url": str(c),
                                               "name": label_of(void, c, DCTERMS.title, RDFS.label)})
                                  for c in sorted(void.subjects(DCAT.dataset, node), key=str)],
    }
    versions = _iris(void, node, DCAT3.hasVersion)
    if versions:
        doc["hasPart"] = [{"@type": "Dataset", "@id": public(v), "name": f"{doc['name']} {v.rsplit('/', 1)[-1]}",
                           "url": public(v)} for v in versions]
    endpoint = void.value(node, VOID.sparqlEndpoint)
    if endpoint is not None:
        doc["potentialAction"] = {"@type": "SearchAction", "name": "SPARQL 1.1 query",
                                  "target": public(str(endpoint)) + "?query={query}",
                                  "query-input": "required name=query"}
    return _drop_empty(doc)


#: The schema.org type a resource page is marked up as, by its fwgraph class (first match wins).
SOFTWARE_TYPES = ((FW.WebFramework, "SoftwareSourceCode"), (FW.ApplicationServer, "SoftwareApplication"),
                  (FW.Library, "SoftwareSourceCode"))


def resource(description: Graph, iri: str, public: Public = str,
             ontology: Graph | None = None) -> dict[str, Any] | None:
    """schema.org markup for one resource's description (its CBD): software or a defined term; None otherwise.

    With the ``ontology``, a subclass counts as its superclass (a template engine is a library).
    """
    node = URIRef(iri)
    types = set(description.objects(node, RDF.type))
    if ontology is not None:
        types |= {sup for t in set(types) for sup in ontology.transitive_objects(t, RDFS.subClassOf)
                  if sup is not None}
    name = label_of(description, node, RDFS.label, SKOS.prefLabel)
    if name is None:
        return None
    kind = next((t for cls, t in SOFTWARE_TYPES if cls in types), None)
    if kind is None and (SKOS.Concept in types or FW.Feature in types):
        scheme = description.value(node, SKOS.inScheme)
        return _drop_empty({
            "@context": CONTEXT, "@type": "DefinedTerm", "@id": public(iri), "url": public(iri), "name": name,
            "description": label_of(description, node, SKOS.definition, DCTERMS.description, RDFS.comment),
            "termCode": iri.rstrip("/").rsplit("/", 1)[-1],
            "inDefinedTermSet": public(str(scheme)) if scheme is not None else None,
        })
    if kind is None:
        return None
    repositories = _iris(description, node, SDO.codeRepository)
    release = description.value(node, FW.latestRelease)
    version = label_of(description, release, DOAP.revision) if release is not None else None
    released = label_of(description, release, DOAP.created) if release is not None else None
    homepage = description.value(node, DOAP.homepage)
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": kind,
        "@id": public(iri),
        "name": name,
        "description": label_of(description, node, DCTERMS.description),
        "url": str(homepage) if homepage is not None else public(iri),
        "identifier": public(iri),
        "mainEntityOfPage": public(iri),
        "license": _iris(description, node, DOAP.license)[:1] or None,
        "sameAs": _iris(description, node, OWL.sameAs) or None,
        "codeRepository": repositories[0] if repositories else None,
        "programmingLanguage": label_of(description, node, DOAP["programming-language"]),
        "softwareVersion": version,
        "dateModified": released,
        "softwareHelp": None,
    }
    help_pages = _iris(description, node, SDO.softwareHelp)
    if help_pages:
        doc["softwareHelp"] = {"@type": "CreativeWork", "url": help_pages[0]}
    if isinstance(doc["license"], list):
        doc["license"] = doc["license"][0]
    if kind == "SoftwareApplication":
        doc["applicationCategory"] = "Web server"
        doc["operatingSystem"] = "Any platform that runs Python"
    if kind == "SoftwareSourceCode":
        doc["runtimePlatform"] = "Python"
    return _drop_empty(doc)


def script_json(doc: dict[str, Any] | None) -> str | None:
    """``doc`` as the text of a ``<script type="application/ld+json">`` data block: no ``<``, so no ``</script>``
    (or comment) in the data can end the block early."""
    if doc is None:
        return None
    text = json.dumps(doc, ensure_ascii=False, indent=1)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


__all__ = ["dataset", "resource", "script_json"]
