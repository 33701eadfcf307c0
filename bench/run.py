"""Benchmark (issues 6 and 9): the plugin's fetches and builds against baselines run beside them.

Everything runs on loopback: Debian's ``docker-registry`` (temporary storage, a free port) and,
in front of it, :mod:`bench.latency_proxy` as a process of its own, which adds a fixed
round-trip time (RTT) to every exchange and to every new connection, and counts connections.
As public registries do, the registry speaks TLS (a CA made for the run, trusted through the
plugin's ``tls`` option), and Go offers HTTP/2 by ALPN; a second registry process serves the
same storage over plain HTTP behind a proxy of its own, for the second row of each fetch.

Datasets, seeded through the OCI push API (:mod:`tests.support.seeding`):

S
    one image, ``acme/widget``: 300 tags over 60 multi-arch digests (5 tags a digest; every
    third index carries its creation time as an annotation, the others leave it to the
    config of their first platform image).
L
    a site of 200 pages, ``docs/pNNN.md``, each with one directive for its own image
    ``bench/imageNNN``: 50 tags over 10 digests. Seeded from a thread pool.

Measured ``--repeat`` times each (median and min-max spread):

1. Cold fetch of S through the proxy at each ``--rtt-ms``: the plugin's ``RegistryClient``
   (``fetch_many``, concurrency 16, no cache) over TLS with HTTP/1.1 (the default), beside the
   same over TLS with HTTP/2 (the ``http2`` option) and over plain HTTP; against (a) a naive
   sequential httpx script
   (``GET tags/list``, then one ``HEAD`` per tag on one keep-alive connection: what one would
   write in a mkdocs-macros hook), over TLS too, and (b) skopeo (``skopeo list-tags`` plus one
   ``skopeo inspect --raw`` per tag: the nightly-generator way; ``--skopeo-tags`` of them are
   timed and the rest extrapolated linearly, which the table says; ``--no-creds`` keeps it
   from reading the machine's credentials, ``--cert-dir`` trusts the run's CA). The lower
   bound is the measured RTT (median of ``GET /v2/`` on an open connection) times the round
   trips on the critical path at concurrency C: 1 (tag list) + ceil(tags / C) (HEADs) +
   ceil(digests / C) x 3 (index, platform manifest, config) + 1 (opening connections) + 1
   (the TLS 1.3 handshake). Requests, retries and connections of the plugin are its client's
   own counts (a proxy cannot see requests inside TLS). The same fetch straight against the
   registry, without the proxy, shows the CPU floor on its own.
2. Warm build of L (cache fresh): ``mkdocs build`` with the plugin against the same site with
   the tables already written into the pages as Markdown and no plugin.
3. Cold build of L through the proxy (cache folder deleted first), over TLS, then over plain
   HTTP, with the requests per image the plugin counted.
4. Offline build of L (``TAGHISTORY_OFFLINE=1``, cache filled): connections at the proxy.
5. Peak memory (``ru_maxrss`` of each ``mkdocs build``, from ``os.wait4``; the builds are
   started by :mod:`bench.launch`, since Linux would carry this process's own peak over into a
   child it forks).

The plugin's L builds name their images by the proxy's address, so cold, warm and offline
builds share one cache; the proxy stays up throughout and its counters are reset before each
measurement. They run at ``--l-rtt-ms`` (default: 50 ms when ``--rtt-ms`` lists it, else the
first RTT listed).

The targets are printed as "met" or "missed", never asserted: cold S within 1.2x the lower
bound and at least 20x faster than skopeo; warm L at most 1.10x the plain build; offline L
zero connections.

Run from the repository root::

    .venv/bin/python -m bench.run                     # RTT 50 ms, 3 repeats: several minutes
    .venv/bin/python -m bench.run --rtt-ms 20 50 100  # dataset S at each RTT
    .venv/bin/python -m bench.run --write             # also write bench/RESULTS.md

Progress goes to stderr; the results (a Markdown table, then where the time went) to stdout.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.datasets import (
    S_REPOSITORY,
    loopback_only_environment,
    seed_site_images,
    start_servers,
    stop_servers,
)
from bench.measurements import (
    AtRtt,
    FetchSeries,
    cpu_of,
    measure_l,
    measure_s,
    plugin_fetch,
    progress,
    seconds,
)
from bench.report import report
from bench.results_file import RESULTS_PATH, record_head
from mkdocs_taghistory.registry.client import ClientSettings
from mkdocs_taghistory.settings import HostTls, TlsSettings
from tests.support.seeding import seed_image

DEFAULT_RTT_MS = 50.0


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line; ``--l-rtt-ms`` defaults as the docstring says."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add = parser.add_argument
    add("--rtt-ms", type=float, nargs="+", default=[DEFAULT_RTT_MS], help="RTTs for dataset S")
    add("--l-rtt-ms", type=float, default=None, help="RTT of the L builds")
    add("--repeat", type=int, default=3, help="timed runs of every measurement")
    add("--pages", type=int, default=200, help="pages (images) of dataset L")
    add("--l-digests", type=int, default=10, help="digests per image of L (5 tags each)")
    add("--s-digests", type=int, default=60, help="digests of S (5 tags each)")
    add("--skopeo-tags", type=int, default=40, help="tags skopeo inspects (the rest estimated)")
    add("--concurrency", type=int, default=16, help="the plugin client's concurrency")
    add("--rtt-samples", type=int, default=20, help="requests that measure the RTT")
    add("--write", action="store_true", help=f"also write the report to {RESULTS_PATH}")
    arguments = parser.parse_args(argv)
    for name in ("repeat", "pages", "l_digests", "s_digests", "skopeo_tags", "concurrency"):
        if getattr(arguments, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if arguments.l_rtt_ms is None:
        listed = arguments.rtt_ms
        arguments.l_rtt_ms = DEFAULT_RTT_MS if DEFAULT_RTT_MS in listed else listed[0]
    return arguments


def main(argv: Sequence[str] | None = None) -> None:
    """Start the servers, seed, measure, print (and with ``--write`` save) the report."""
    arguments = parse_arguments(argv)
    with tempfile.TemporaryDirectory(prefix="bench-run-") as temporary:
        root = Path(temporary)
        (root / "docker-config").mkdir()
        environment = loopback_only_environment(root / "docker-config")
        # The in-process clients read the environment too: keep them on loopback as well.
        for name in [name for name in os.environ if name.lower().endswith("_proxy")]:
            del os.environ[name]
        servers = start_servers(root, arguments.rtt_ms[0])
        try:
            registry = servers.plain.registry
            seeding: dict[str, float] = {}
            started = time.perf_counter()
            pushed = seed_image(
                registry.url, S_REPOSITORY, digests=arguments.s_digests, tags_per_digest=5
            )
            seeding["S"] = time.perf_counter() - started
            expected = {tag: image.digest for image in pushed for tag in image.tags}
            started = time.perf_counter()
            seed_site_images(registry.url, arguments.pages, arguments.l_digests)
            seeding["L"] = time.perf_counter() - started
            progress(f"seeded S in {seconds(seeding['S'])}, L in {seconds(seeding['L'])}")

            at_rtts = [AtRtt(rtt) for rtt in arguments.rtt_ms]
            direct = FetchSeries()
            # Straight at the TLS registry, with the same trust as through its proxy.
            tls_registry = servers.tls.registry
            direct_settings = ClientSettings(
                concurrency=arguments.concurrency,
                tls=TlsSettings({tls_registry.host: HostTls(ca_file=servers.tls.ca_file)}, ()),
            )
            # An untimed fetch first: imports, and the registry's first reads of its storage.
            plugin_fetch(tls_registry.host, direct_settings, expected, FetchSeries())
            for repeat in range(arguments.repeat):
                progress(f"dataset S, repeat {repeat + 1} of {arguments.repeat}")
                with cpu_of(servers, direct.cpu):
                    plugin_fetch(tls_registry.host, direct_settings, expected, direct)
                for at in at_rtts:
                    measure_s(servers, at, expected, arguments, environment)
            progress("dataset L")
            site = measure_l(servers, root / "site", arguments, environment)
        finally:
            stop_servers(servers)
    text = report(arguments, at_rtts, direct, site, seeding)
    print(text)
    if arguments.write:
        record_head(text)
        progress(f"wrote {RESULTS_PATH}")


if __name__ == "__main__":
    main()
