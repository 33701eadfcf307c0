"""The plugin's options in ``mkdocs.yml``."""

from __future__ import annotations

from mkdocs.config import config_options as opt
from mkdocs.config.base import Config

from mkdocs_taghistory.options import DEFAULT_DATE_FORMAT
from mkdocs_taghistory.reference import DEFAULT_REGISTRY
from mkdocs_taghistory.registry.tls import DEFAULT_CERTS_DIRS
from mkdocs_taghistory.settings import DEFAULT_CACHE_DIR, DEFAULT_EMPTY_MESSAGE


class TagHistoryConfig(Config):  # type: ignore[no-untyped-call]  # MkDocs' __init_subclass__
    """Options of the ``taghistory`` plugin."""

    # Where images come from ----------------------------------------------------------

    registry = opt.Type(str, default=DEFAULT_REGISTRY)
    """``HOST/NAMESPACE`` that a bare image name (``"rust"``) resolves against."""

    insecure_registries = opt.ListOfItems(opt.Type(str), default=[])
    """Registry hosts (``host[:port]``) spoken to over plain HTTP; loopback hosts always are."""

    # How they are fetched ------------------------------------------------------------

    concurrency = opt.Type(int, default=16)
    """The most requests in flight at once, across all images of the site."""

    timeout = opt.Type((int, float), default=10)
    """Seconds one request may take, from connecting to the last byte of its answer."""

    fetch_timeout = opt.Type((int, float), default=600)
    """Seconds a build's whole fetch may take. Images not done by then are served from the
    cache with a note, as when their registry cannot be reached."""

    retries = opt.Type(int, default=3)
    """Further attempts after a failure that may pass: connection errors, timeouts, HTTP 429
    and 5xx. Waits grow exponentially, with jitter, and honour ``Retry-After``."""

    http2 = opt.Type(bool, default=False)
    """Offer HTTP/2 to registries spoken to over TLS. Off by default: measured against a real
    registry, httpx's HTTP/2 under the thread pool lost streams and was slower than HTTP/1.1."""

    # TLS --------------------------------------------------------------------------------

    tls = opt.Type(dict, default={})
    """Per ``HOST[:PORT]``: ``{ca_file, cert_file, key_file}`` (all optional; paths relative
    to ``mkdocs.yml``). ``ca_file`` is added to the trusted roots for that host; ``cert_file``
    and ``key_file`` are the client certificate (mutual TLS). A host with an entry is spoken
    to over HTTPS, loopback too."""

    certs_dirs = opt.ListOfItems(opt.Type(str), default=list(DEFAULT_CERTS_DIRS))
    """Folders with a ``HOST[:PORT]`` folder per registry, read as Docker and Podman read
    them: ``*.crt`` trusted as roots, ``NAME.cert`` with ``NAME.key`` as client certificate."""

    # Credentials and vendor APIs -----------------------------------------------------

    auth = opt.Type(dict, default={})
    """Credentials per registry host: ``{HOST: {username, password}}``; use ``!ENV`` for the
    values. Without an entry, Docker's configuration (and its credential helpers) is read."""

    vendors = opt.Type(dict, default={})
    """The API that gives tags and times, per host: ``{HOST: {type, url}}``, ``type`` one of
    ``chainguard``, ``dockerhub``, ``quay``, ``ghcr``, ``oci``; ``url`` for mirrors and
    self-hosted installs. cgr.dev, docker.io, quay.io and ghcr.io are known without it."""

    # Which tags the tables show ------------------------------------------------------

    hide_signature_tags = opt.Type(bool, default=True)
    """Hide cosign and referrer tags (``sha256-<hex>`` with or without ``.sig``/``.att``/
    ``.sbom``)."""

    hide_build_tags = opt.Type(bool, default=False)
    """Hide Chainguard's per-build tags: ``-r<N>`` epochs and ``-<YYYYMMDD>`` dates."""

    include_tags = opt.Optional(opt.Type(str))
    """Show only tags in which this regular expression is found."""

    exclude_tags = opt.Optional(opt.Type(str))
    """Hide tags in which this regular expression is found."""

    # Cache and offline builds --------------------------------------------------------

    cache = opt.Type(bool, default=True)
    """Keep each fetch on disk, so offline builds have tables. False keeps them in memory."""

    cache_dir = opt.Type(str, default=DEFAULT_CACHE_DIR)
    """Folder of the on-disk cache, relative to the directory of ``mkdocs.yml``."""

    ttl = opt.Type((int, str), default="1h")
    """How long a fetch stays fresh: seconds, or ``30m``, ``6h``, ``1d``. A cached fetch
    younger than this is used without asking the registry; ``0`` always asks."""

    offline = opt.Type(bool, default=False)
    """Never ask a registry; every table comes from the cache. ``TAGHISTORY_OFFLINE=1`` too."""

    strict = opt.Type(bool, default=False)
    """Log a table served from the cache after a failed fetch as a warning, which fails
    ``mkdocs build --strict``; otherwise it is an info line."""

    # How tables are laid out -----------------------------------------------------------

    registries = opt.Type(list, default=[])
    """Sections for a bare image name: ``[{title, registry, description}]``. Each entry gives
    the image's table in that registry under a heading (listed in the table of contents) and
    its description, as Chainguard's "Public Registry" / "Private/Dedicated Registry" pages."""

    heading_level = opt.Type(int, default=3)
    """The Markdown heading level of those sections."""

    empty_message = opt.Type(str, default=DEFAULT_EMPTY_MESSAGE)
    """The sentence of a section whose registry has no tags; ``{title}`` and ``{image}`` are
    filled in."""

    date_format = opt.Type(str, default=DEFAULT_DATE_FORMAT)
    """How "Last Changed" is written: strftime codes plus ``%O``, the ordinal day. The default
    gives "March 18th"."""

    timezone = opt.Type(str, default="UTC")
    """The IANA time zone the dates are written in; tooltips always give the UTC time."""
