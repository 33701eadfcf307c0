"""Files from outside, second round: TLS material, Docker's config.json and committed cache files
that are FIFOs, folders, huge, or nested beyond reason. Each is a clear message naming the file
that is wrong, at once: never a hang, never gigabytes, never "unexpected answer"."""

from __future__ import annotations

import json
import logging
import os
import signal
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mkdocs_taghistory.cache import (
    CacheFormatError,
    SnapshotCache,
    snapshot_from_json,
    snapshot_to_json,
)
from mkdocs_taghistory.history import (
    MAX_LEDGER_SIGHTINGS,
    MAX_TAGS,
    Sighting,
    TagSnapshot,
    TagState,
    record_sightings,
)
from mkdocs_taghistory.registry.credentials import CredentialSource
from mkdocs_taghistory.registry.tls import TlsContexts, check_host_tls
from mkdocs_taghistory.registry.tls_files import TlsSetupError
from mkdocs_taghistory.settings import HostTls, TlsSettings
from tests.support.tls import CertificateAuthority

FETCHED = datetime(2024, 3, 22, 12, tzinfo=UTC)
IMAGE = "registry.example/acme/widget"


@pytest.fixture(autouse=True)
def no_hang() -> Iterator[None]:
    """Fail, rather than hang the suite, if a FIFO is waited on."""

    def hung(signum: int, frame: object) -> None:
        raise TimeoutError("waited on a file that never ends")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(10)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    return CertificateAuthority(tmp_path_factory.mktemp("ca"))


def broken(path: Path, kind: str) -> Path:
    """``path`` made into a file that cannot be TLS material: a FIFO, a folder, 300 MiB, none."""
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "huge":
        with path.open("wb") as stream:
            stream.truncate(300 * 1024 * 1024)  # sparse: no disk is used
    return path


KINDS = {
    "fifo": "it is not a regular file",
    "folder": "it is not a regular file",
    "huge": "it is larger than 8 MiB",
    "missing": "No such file or directory",
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_ca_file_that_is_no_regular_file_is_named_at_once(tmp_path: Path, kind: str) -> None:
    ca_file = broken(tmp_path / "ca.pem", kind)
    with pytest.raises(TlsSetupError) as raised:
        check_host_tls(HostTls(ca_file=ca_file))
    assert f"cannot use {ca_file} as a CA certificate: {KINDS[kind]}" in str(raised.value)


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_broken_key_file_is_named_as_the_key_not_the_certificate(
    tmp_path: Path, authority: CertificateAuthority, kind: str
) -> None:
    client = authority.issue("client", client=True)
    key_file = broken(tmp_path / "client.key", kind)
    with pytest.raises(TlsSetupError) as raised:
        check_host_tls(HostTls(cert_file=client.certificate, key_file=key_file))
    message = str(raised.value)
    assert f"cannot use {key_file} as the client certificate's key: {KINDS[kind]}" in message
    assert str(client.certificate) not in message


def test_a_key_that_does_not_fit_names_both_files(
    tmp_path: Path, authority: CertificateAuthority
) -> None:
    client, other = authority.issue("client", client=True), authority.issue("other", client=True)
    with pytest.raises(TlsSetupError) as raised:
        check_host_tls(HostTls(cert_file=client.certificate, key_file=other.key))
    assert f"{client.certificate} with its key {other.key}" in str(raised.value)


def test_a_fifo_as_ca_crt_in_a_certs_d_folder_is_named_when_the_host_is_spoken_to(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "certs.d" / "registry.example:5443"
    folder.mkdir(parents=True)
    fifo = broken(folder / "ca.crt", "fifo")
    contexts = TlsContexts(TlsSettings({}, certs_dirs=(tmp_path / "certs.d",)))
    with pytest.raises(TlsSetupError, match=f"cannot use {fifo} as a CA certificate"):
        contexts.context_for("registry.example:5443")


# --- Docker's config.json -----------------------------------------------------------------


class Recorded(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("nested", "nested too deeply"),
        ("fifo", "not a regular file"),
        ("huge", "larger than 4 MiB"),
        ("not json", "not valid JSON"),
    ],
)
def test_an_odd_docker_config_is_one_warning_and_no_credentials(
    tmp_path: Path, kind: str, says: str
) -> None:
    path = tmp_path / "config.json"
    if kind == "nested":
        path.write_text("[" * 1_000_000 + "]" * 1_000_000)
    elif kind == "not json":
        path.write_text('{"auths": {"registry.example": {"auth": "c2VjcmV0')
    else:
        broken(path, kind)
    recorded = Recorded()
    credentials_logger = logging.getLogger("mkdocs_taghistory.registry.credentials")
    credentials_logger.addHandler(recorded)
    try:
        assert CredentialSource(docker_config=path).for_host("registry.example") is None
    finally:
        credentials_logger.removeHandler(recorded)
    (warning,) = recorded.messages
    assert str(path) in warning and says in warning
    assert "c2VjcmV0" not in warning  # what the file holds is never repeated


# --- the cache: a registry answer's caps -----------------------------------------------------


def document(tags: int = 1, sightings: int = 1) -> dict[str, object]:
    digest = "sha256:" + "a" * 64
    stamp = "2024-03-22T12:00:00Z"
    return {
        "schema": 1,
        "image": IMAGE,
        "fetched_at": stamp,
        "tags": {f"t{n}": {"digest": digest, "changed": stamp} for n in range(tags)},
        "digests": {},
        "ledger": {"t0": [{"digest": digest, "first_seen": stamp}] * sightings},
    }


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (json.dumps(document(tags=MAX_TAGS + 1)), "more than 50000 tags or digests"),
        (
            json.dumps(document(sightings=MAX_LEDGER_SIGHTINGS + 1)),
            "the ledger holds more than 100000 sightings",
        ),
        ("[" + "{}," * 600_000 + "{}]", "more than 1000000 JSON items"),
    ],
)
def test_a_cache_file_past_a_registry_answers_caps_is_refused(text: str, problem: str) -> None:
    with pytest.raises(CacheFormatError, match=problem):
        snapshot_from_json(text, now=FETCHED)


def test_a_cache_file_past_the_caps_is_one_warning_naming_it(tmp_path: Path) -> None:
    cache = SnapshotCache(tmp_path)
    path = cache.path_for(IMAGE)
    path.write_text(json.dumps(document(tags=MAX_TAGS + 1)))
    recorded = Recorded()
    cache_logger = logging.getLogger("mkdocs_taghistory.cache")
    cache_logger.addHandler(recorded)
    try:
        assert cache.load(IMAGE) is None
    finally:
        cache_logger.removeHandler(recorded)
    (warning,) = recorded.messages
    assert str(path) in warning and "more than 50000 tags" in warning


def test_a_ledger_past_its_cap_is_trimmed_so_the_file_reads_back() -> None:
    digests = ["sha256:" + f"{n:064x}" for n in range(4)]
    # Many tags no longer listed, each seen twice, and one listed tag with a long history.
    gone = {
        f"gone{n}": (
            Sighting(digests[0], FETCHED - timedelta(days=400 - n % 300)),
            Sighting(digests[1], FETCHED - timedelta(days=300 - n % 300)),
        )
        for n in range(MAX_LEDGER_SIGHTINGS // 2)
    }
    previous = TagSnapshot(IMAGE, FETCHED - timedelta(days=1), {}, ledger=gone)
    fresh = TagSnapshot(IMAGE, FETCHED, {"latest": TagState(digests[2], None)})
    merged = record_sightings(fresh, previous)
    assert sum(map(len, merged.ledger.values())) <= MAX_LEDGER_SIGHTINGS
    assert merged.ledger["latest"] == (Sighting(digests[2], FETCHED),)
    # The tags seen longest ago gave theirs up first.
    dropped = set(gone) - set(merged.ledger)
    assert dropped and max(gone[tag][-1].first_seen for tag in dropped) <= min(
        gone[tag][-1].first_seen for tag in merged.ledger if tag in gone
    )
    assert snapshot_from_json(snapshot_to_json(merged), now=FETCHED).ledger == merged.ledger
