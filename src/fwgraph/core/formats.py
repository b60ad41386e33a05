"""Every format fwgraph reads or writes, stated once, and the one content negotiator every route and command uses.

A :class:`Format` carries everything any part of fwgraph needs to know about a format: its short name (the
``format=`` parameter and the CLI), the media types it is requested and sent as, its file suffix, its W3C
format IRI (``sd:resultFormat``, ``dcat:mediaType``), and the names rdflib and Oxigraph give it. Callers pick
formats from here by name, by media type or by file suffix; no other module lists media types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

W3C_FORMATS = "http://www.w3.org/ns/formats/"
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: each format exists once
class Format:
    """One format. ``media_types`` are every type it is recognised by, the canonical one first."""

    name: str
    label: str
    media_types: tuple[str, ...]
    kind: str  # "results" (SELECT/ASK), "rdf" (graphs), "page", "doc" (plain documents), "archive"
    aliases: dict[str, str] = field(default_factory=dict)  # other ``format=`` names -> the media type they ask for
    suffix: str | None = None
    charset: bool = False  # a text format: sent with "; charset=utf-8"
    w3c: str | None = None  # http://www.w3.org/ns/formats/...
    rdflib: str | None = None  # rdflib's parser/serialiser name
    oxigraph: str | None = None  # the name in pyoxigraph.RdfFormat or pyoxigraph.QueryResultsFormat
    served_as: tuple[str, ...] = ()  # requested media types answered with that type instead of the canonical one

    @property
    def media_type(self) -> str:
        return self.media_types[0]

    @property
    def content_type(self) -> str:
        """The Content-Type header value for a body in this format."""
        return self.media_type + ("; charset=utf-8" if self.charset else "")

    def content_type_for(self, media_type: str) -> str:
        """The Content-Type answering a request for ``media_type`` (JSON-LD asked as application/json stays so)."""
        if media_type in self.served_as:
            return media_type + ("; charset=utf-8" if self.charset else "")
        return self.content_type

    @property
    def iana(self) -> str:
        """The media type's IANA registry IRI (``dcat:mediaType``)."""
        return IANA_MEDIA_TYPES + self.media_type

    def ox_rdf(self):  # noqa: ANN201  (pyoxigraph is imported lazily: the web process rarely needs it here)
        import pyoxigraph as ox

        assert self.kind == "rdf" and self.oxigraph, self.name
        return getattr(ox.RdfFormat, self.oxigraph)

    def ox_results(self):  # noqa: ANN201
        import pyoxigraph as ox

        assert self.kind == "results" and self.oxigraph, self.name
        return getattr(ox.QueryResultsFormat, self.oxigraph)

    def __str__(self) -> str:
        return self.name


SPARQL_JSON = Format("json", "SPARQL Results JSON", ("application/sparql-results+json", "application/json"),
                     "results", aliases={"srj": "application/sparql-results+json"}, suffix=".srj",
                     w3c=W3C_FORMATS + "SPARQL_Results_JSON", oxigraph="JSON")
SPARQL_XML = Format("xml", "SPARQL Results XML", ("application/sparql-results+xml", "application/xml", "text/xml"),
                    "results", aliases={"srx": "application/sparql-results+xml"}, suffix=".srx",
                    w3c=W3C_FORMATS + "SPARQL_Results_XML", oxigraph="XML")
CSV = Format("csv", "CSV", ("text/csv",), "results", suffix=".csv", charset=True,
             w3c=W3C_FORMATS + "SPARQL_Results_CSV", oxigraph="CSV")
TSV = Format("tsv", "TSV", ("text/tab-separated-values",), "results", suffix=".tsv", charset=True,
             w3c=W3C_FORMATS + "SPARQL_Results_TSV", oxigraph="TSV")
TURTLE = Format("turtle", "Turtle", ("text/turtle", "application/x-turtle", "application/turtle"), "rdf",
                aliases={"ttl": "text/turtle"}, suffix=".ttl", charset=True, w3c=W3C_FORMATS + "Turtle",
                rdflib="turtle", oxigraph="TURTLE")
JSONLD = Format("jsonld", "JSON-LD", ("application/ld+json", "application/json"), "rdf",
                aliases={"json-ld": "application/ld+json", "json": "application/json"}, suffix=".jsonld",
                w3c=W3C_FORMATS + "JSON-LD", rdflib="json-ld", oxigraph="JSON_LD", served_as=("application/json",))
NTRIPLES = Format("nt", "N-Triples", ("application/n-triples", "text/plain"), "rdf",
                  aliases={"ntriples": "application/n-triples", "n-triples": "application/n-triples"}, suffix=".nt",
                  w3c=W3C_FORMATS + "N-Triples", rdflib="nt", oxigraph="N_TRIPLES")
RDFXML = Format("rdfxml", "RDF/XML", ("application/rdf+xml",), "rdf",
                aliases={"rdf": "application/rdf+xml", "xml": "application/rdf+xml"}, suffix=".rdf",
                w3c=W3C_FORMATS + "RDF_XML", rdflib="xml", oxigraph="RDF_XML")
HTML = Format("html", "HTML", ("text/html", "application/xhtml+xml"), "page", suffix=".html", charset=True)
JSON = Format("json", "JSON", ("application/json",), "doc", suffix=".json")
TEXT = Format("text", "plain text", ("text/plain",), "doc", aliases={"txt": "text/plain"}, suffix=".txt",
              charset=True)
MARKDOWN = Format("markdown", "Markdown", ("text/markdown",), "doc", aliases={"md": "text/markdown"}, suffix=".md",
                  charset=True)
GZIP = Format("gzip", "gzip", ("application/gzip",), "archive", suffix=".gz")
#: JSONP answers of the reconciliation service: JSON wrapped in a call to the client's callback.
JAVASCRIPT = Format("javascript", "JavaScript (JSONP)", ("application/javascript",), "doc", charset=True)
#: Plain XML documents (the sitemap); SPARQL results in XML are SPARQL_XML.
XML_DOCUMENT = Format("xml-document", "XML", ("application/xml", "text/xml"), "doc", suffix=".xml", charset=True)

#: The formats of SELECT/ASK results and of CONSTRUCT/DESCRIBE results, preferred first.
RESULT_FORMATS: tuple[Format, ...] = (SPARQL_JSON, SPARQL_XML, CSV, TSV)
RDF_FORMATS: tuple[Format, ...] = (TURTLE, JSONLD, NTRIPLES, RDFXML)
#: Every format a query answer can be sent in (short names unique among them: the worker protocol uses them).
ANSWER_FORMATS: tuple[Format, ...] = (*RESULT_FORMATS, HTML, *RDF_FORMATS)
#: Contributions and sources are read in these.
INPUT_FORMATS: tuple[Format, ...] = (TURTLE, JSONLD)
ALL: tuple[Format, ...] = (*RESULT_FORMATS, *RDF_FORMATS, HTML, JSON, TEXT, MARKDOWN, GZIP, XML_DOCUMENT)

#: Media types sent compressed to a client that accepts it (fwgraph.app.compression): every text format above (an
#: archive is compressed already), and the static files' scripts, styles and images in text.
COMPRESSIBLE: tuple[str, ...] = (*dict.fromkeys(t for fmt in ALL if fmt.kind != "archive" for t in fmt.media_types),
                                 "text/javascript", "text/css", "image/svg+xml", "application/manifest+json")

#: Request bodies the SPARQL protocol defines (they are not answer formats).
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
FORM_URLENCODED = "application/x-www-form-urlencoded"
FORM_MULTIPART = "multipart/form-data"


def by_name(name: str, among: tuple[Format, ...] = ALL) -> Format | None:
    """The format called ``name`` (a short name or an alias) among ``among``; None if there is none."""
    key = name.strip().lower()
    for fmt in among:
        if key == fmt.name or key in fmt.aliases:
            return fmt
    return None


def by_media_type(media_type: str | None, among: tuple[Format, ...] = ALL) -> Format | None:
    """The first format among ``among`` recognised by ``media_type`` (parameters ignored)."""
    if not media_type:
        return None
    key = media_type.split(";", 1)[0].strip().lower()
    for fmt in among:
        if key in fmt.media_types:
            return fmt
    return None


def by_suffix(name: str, among: tuple[Format, ...] = ALL) -> Format | None:
    """The format a file name's suffix names (``fwgraph.ttl`` -> Turtle)."""
    lower = name.lower()
    for fmt in among:
        if fmt.suffix and lower.endswith(fmt.suffix):
            return fmt
    return None


def content_type_of_file(name: str) -> str:
    """The Content-Type a downloaded file is served with: by suffix, gzip for ``.gz``, else octet-stream."""
    fmt = GZIP if name.endswith(".gz") else by_suffix(name, (*RDF_FORMATS, *RESULT_FORMATS, HTML, JSON, TEXT,
                                                             MARKDOWN))
    return fmt.content_type if fmt else "application/octet-stream"


# ---------------------------------------------------------------------------------------------- negotiation

#: An offer: a media type a route can answer with, and the format it answers in.
Offer = tuple[str, Format]


def offers(*formats: Format) -> tuple[Offer, ...]:
    """Offers for ``formats`` in order: every canonical type first, then the other types each is known by."""
    canonical = [(f.media_type, f) for f in formats]
    others = [(mt, f) for f in formats for mt in f.media_types[1:]]
    seen: set[str] = set()
    out = []
    for mt, f in canonical + others:
        if mt not in seen:
            seen.add(mt)
            out.append((mt, f))
    return tuple(out)


#: A parsed Accept entry: (type, subtype, q, position, parameters other than q, lowercased names).
_Entry = tuple[str, str, float, int, tuple[tuple[str, str], ...]]


def _parse_accept(header: str) -> tuple[_Entry, ...]:
    """Accept as (type, subtype, q, position, parameters); q is taken out of the parameters."""
    out = []
    for pos, item in enumerate(_split_accept(header)):
        parts = [p.strip() for p in _split_params(item)]
        mt = parts[0].lower()
        if not mt:
            continue
        if "/" not in mt:
            if mt != "*":
                continue
            mt = "*/*"
        typ, _, sub = mt.partition("/")
        q = 1.0
        params = []
        for param in parts[1:]:
            name, _, value = param.partition("=")
            name, value = name.strip().lower(), value.strip().strip('"')
            if name == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
            elif name:
                params.append((name, value))
        out.append((typ, sub, q, pos, tuple(params)))
    return tuple(out)


def _split_accept(header: str) -> list[str]:
    """Split at commas outside quoted strings (a JSON-LD profile may be quoted)."""
    return _split_outside_quotes(header, ",")


def _split_params(item: str) -> list[str]:
    return _split_outside_quotes(item, ";")


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


#: Charsets a text answer is in (every text format fwgraph writes is UTF-8; US-ASCII clients get no guarantee).
_OUR_CHARSETS = ("utf-8", "utf8")


def _matches_params(params: tuple[tuple[str, str], ...]) -> bool:
    """Whether an Accept entry's parameters allow our representation (RFC 9110 12.5.1): a charset other than
    UTF-8 excludes it; a JSON-LD profile is honoured by the writer (:func:`jsonld_form`), never refused."""
    return all(value.lower() in _OUR_CHARSETS for name, value in params if name == "charset")


def _quality(accept: tuple[_Entry, ...], media_type: str) -> tuple[float, int, int]:
    """(q, specificity, -position) of the most specific Accept entry matching ``media_type``."""
    typ, _, sub = media_type.partition("/")
    best: tuple[float, int, int] | None = None
    for a_typ, a_sub, q, pos, params in accept:
        if a_typ == typ and a_sub == sub:
            spec = 2
        elif a_typ == typ and a_sub == "*":
            spec = 1
        elif a_typ == "*" and a_sub == "*":
            spec = 0
        else:
            continue
        if params and not _matches_params(params):
            continue
        if best is None or spec > best[1]:
            best = (q, spec, -pos)
    return best or (0.0, -1, 0)


def _negotiate(choices: tuple[Offer, ...], accept_header: str, format_param: str) -> Offer | None:
    if format_param:
        value = format_param.strip().lower()
        value_type = value.split(";")[0].strip()
        for _, fmt in choices:
            if value == fmt.name:
                return fmt.media_type, fmt
            if value in fmt.aliases:
                return fmt.aliases[value], fmt
        for media_type, fmt in choices:
            if media_type == value_type:
                return media_type, fmt
        return None
    accept = _parse_accept(accept_header) if accept_header.strip() else ()
    if not accept:
        return choices[0]
    best, best_key = None, None
    for rank, (media_type, fmt) in enumerate(choices):
        q, spec, neg_pos = _quality(accept, media_type)
        if q <= 0:
            continue
        key = (q, spec, neg_pos, -rank)
        if best_key is None or key > best_key:
            best, best_key = (media_type, fmt), key
    return best


_negotiate_memo = lru_cache(maxsize=4096)(_negotiate)


def negotiate(choices: tuple[Offer, ...], accept_header: str = "", format_param: str = "") -> Offer | None:
    """The (media type, format) to answer with, or None when nothing acceptable can be produced (406).

    ``format_param`` (a short name, an alias or a media type) wins over Accept. Among acceptable offers the
    highest q wins, then the most specific match (text/csv over text/* over */*), then the client's order,
    then ours: a missing Accept, or ``*/*`` alone, gives the first offer. Memoised for short headers.

    >>> negotiate(offers(TURTLE, JSONLD), 'application/ld+json;profile="http://www.w3.org/ns/json-ld#compacted"')[0]
    'application/ld+json'
    >>> negotiate(offers(SPARQL_JSON, CSV), "text/*;q=0.5, */*;q=0.1")[1].name
    'csv'
    >>> negotiate(offers(SPARQL_JSON, CSV), "image/png") is None
    True
    """
    if len(accept_header) + len(format_param) <= 512:
        return _negotiate_memo(choices, accept_header, format_param)
    return _negotiate(choices, accept_header, format_param)


#: JSON-LD document forms a client may ask for with the ``profile`` parameter (JSON-LD 1.1, section 10.1).
JSONLD_PROFILE = "http://www.w3.org/ns/json-ld#"
JSONLD_FORMS = ("compacted", "expanded", "flattened")


def jsonld_form(accept_header: str) -> str:
    """The JSON-LD form the client asks for: the first known profile of its most preferred JSON-LD entry.

    ``compacted`` (with the fwgraph context) when no entry names one; profiles fwgraph does not write (a frame,
    a context) are ignored, as the JSON-LD spec allows.

    >>> jsonld_form('application/ld+json;profile="http://www.w3.org/ns/json-ld#expanded"')
    'expanded'
    >>> jsonld_form("text/turtle, application/ld+json")
    'compacted'
    """
    if "profile" not in accept_header:
        return "compacted"
    entries = [e for e in _parse_accept(accept_header[:4096])
               if (e[0], e[1]) == ("application", "ld+json") and e[2] > 0]
    for _, _, _, _, params in sorted(entries, key=lambda e: (-e[2], e[3])):
        for name, value in params:
            if name == "profile":
                for uri in value.split():
                    if uri.startswith(JSONLD_PROFILE) and uri[len(JSONLD_PROFILE):] in JSONLD_FORMS:
                        return uri[len(JSONLD_PROFILE):]
    return "compacted"


def jsonld_content_type(form: str, media_type: str = JSONLD.media_type) -> str:
    """The Content-Type of a JSON-LD answer in ``form``, stating its profile when it is not the default."""
    if form == "compacted" or media_type != JSONLD.media_type:
        return media_type
    return f'{media_type}; profile="{JSONLD_PROFILE}{form}"'


def names(formats: tuple[Format, ...]) -> str:
    """``json|xml|csv``: the ``format=`` names of ``formats``, for messages."""
    return "|".join(f.name for f in formats)
