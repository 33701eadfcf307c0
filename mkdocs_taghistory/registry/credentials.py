"""Registry credentials: the plugin's ``auth`` option, else Docker's own configuration.

Docker's configuration is read the way the Docker CLI reads it: ``$DOCKER_CONFIG/config.json``
or ``~/.docker/config.json``; its ``credHelpers`` (per host) and ``credsStore`` (for all hosts)
name programs ``docker-credential-<name>`` that answer ``get`` with the server on standard
input; its ``auths`` entries hold ``auth`` (base64 ``user:password``) or the two fields.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mkdocs_taghistory.files import read_regular_file
from mkdocs_taghistory.settings import ClientSettings, Credentials

logger = logging.getLogger(__name__)

# Docker keeps Docker Hub's credentials under its v1 index address.
_DOCKER_HUB_KEYS = (
    "https://index.docker.io/v1/",
    "index.docker.io",
    "docker.io",
    "registry-1.docker.io",
)
_HELPER_TIMEOUT_SECONDS = 30
# Far above a real config.json (a few KB, however many registries it logs in to).
_MAX_CONFIG_BYTES = 4 * 1024 * 1024


def docker_config_path() -> Path:
    """Where the Docker CLI keeps its configuration."""
    folder = os.environ.get("DOCKER_CONFIG")
    return Path(folder) / "config.json" if folder else Path.home() / ".docker" / "config.json"


def _candidate_keys(host: str) -> tuple[str, ...]:
    if host in {"docker.io", "index.docker.io", "registry-1.docker.io"}:
        return _DOCKER_HUB_KEYS
    return (host, f"https://{host}", f"http://{host}", f"https://{host}/v1/", f"https://{host}/v2/")


def _from_auths_entry(entry: Any) -> Credentials | None:
    if not isinstance(entry, dict):
        return None
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            username, _, password = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        if username and password:
            return Credentials(username, password)
    named, secret = entry.get("username"), entry.get("password")
    if isinstance(named, str) and isinstance(secret, str) and named and secret:
        return Credentials(named, secret)
    token = entry.get("identitytoken")
    if isinstance(token, str) and token:
        return Credentials("<token>", token)
    return None


def run_credential_helper(helper: str, server: str) -> Credentials | None:
    """Ask ``docker-credential-<helper>`` for the credentials of ``server``.

    A helper that is missing, fails or knows no credentials gives None; what it printed is
    not logged, since it may hold a secret.
    """
    import subprocess  # noqa: PLC0415 (only a helper to run needs it; most builds have none)

    program = f"docker-credential-{helper}"
    try:
        completed = subprocess.run(
            [program, "get"],
            input=server,
            capture_output=True,
            text=True,
            timeout=_HELPER_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        logger.warning("Cannot run the credential helper %s: %s", program, type(error).__name__)
        return None
    if completed.returncode != 0:
        # "credentials not found in native keychain" is the normal answer for unknown hosts.
        logger.debug("%s has no credentials for %s", program, server)
        return None
    try:
        answer = json.loads(completed.stdout)
        username, secret = answer["Username"], answer["Secret"]
    except (ValueError, KeyError, TypeError):
        logger.warning("The credential helper %s gave an answer that is not JSON", program)
        return None
    if not isinstance(username, str) or not isinstance(secret, str) or not secret:
        return None
    return Credentials(username or "<token>", secret)


class CredentialSource:
    """Looks up and remembers credentials per registry host.

    Explicit credentials (the ``auth`` option) win. Otherwise Docker's configuration is read as
    the Docker CLI reads it: a ``credHelpers`` entry for the host, else the ``credsStore``
    (which holds the secrets of every ``docker login`` when it is set), else the inline
    ``auths`` entry. What is found is remembered for the source's life: one fetch
    (:func:`credential_source`), so that the next one, a later build of ``mkdocs serve``, sees
    a later ``docker login`` or a short-lived helper token.
    """

    def __init__(
        self,
        explicit: Mapping[str, Credentials] | None = None,
        *,
        docker_config: Path | None = None,
    ) -> None:
        """Take explicit credentials per host, and where Docker's configuration is (by default
        where the Docker CLI keeps it)."""
        self._explicit = dict(explicit or {})
        self._docker_config_path = docker_config
        self._docker_config: dict[str, Any] | None = None
        self._found: dict[str, Credentials | None] = {}
        self._host_locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def for_host(self, host: str) -> Credentials | None:
        """The credentials to send to ``host``, or None to stay anonymous."""
        with self._guard:
            if host in self._found:
                return self._found[host]
            lock = self._host_locks.setdefault(host, threading.Lock())
        # One lock per host: a slow helper for one registry holds up no other.
        with lock:
            with self._guard:
                if host in self._found:
                    return self._found[host]
            found = self._look_up(host)
            with self._guard:
                self._found[host] = found
            return found

    def _look_up(self, host: str) -> Credentials | None:
        keys = _candidate_keys(host)
        explicit = next((self._explicit[key] for key in keys if key in self._explicit), None)
        if explicit is not None:
            return explicit
        config = self._read_docker_config()
        helpers = config.get("credHelpers")
        helpers = helpers if isinstance(helpers, dict) else {}
        auths = config.get("auths")
        auths = auths if isinstance(auths, dict) else {}
        store = config.get("credsStore")
        helper_key = next((key for key in keys if isinstance(helpers.get(key), str)), None)
        if helper_key is not None:
            return run_credential_helper(helpers[helper_key], helper_key)
        if isinstance(store, str) and store:
            # The store answers for the address `docker login` used, which "auths" names.
            return run_credential_helper(store, next((k for k in keys if k in auths), keys[0]))
        return next(
            (
                found
                for key in keys
                if key in auths
                if (found := _from_auths_entry(auths[key])) is not None
            ),
            None,
        )

    def _read_docker_config(self) -> dict[str, Any]:
        with self._guard:
            if self._docker_config is not None:
                return self._docker_config
        path = self._docker_config_path or docker_config_path()
        try:
            # A link is followed (dotfiles often are links), a FIFO or a huge file is not read.
            loaded = json.loads(read_regular_file(path, _MAX_CONFIG_BYTES, follow_links=True))
        except FileNotFoundError:
            loaded = {}
        except RecursionError:
            logger.warning("Ignoring Docker configuration %s: it is nested too deeply", path)
            loaded = {}
        except (OSError, ValueError) as error:
            # The error's kind and the system's reason only: the file may hold secrets.
            reason = error.strerror if isinstance(error, OSError) and error.strerror else None
            reason = reason or (str(error) if isinstance(error, OSError) else "not valid JSON")
            logger.warning("Ignoring Docker configuration %s: %s", path, reason)
            loaded = {}
        config = loaded if isinstance(loaded, dict) else {}
        with self._guard:
            self._docker_config = config
        return config


def credential_source(settings: ClientSettings) -> CredentialSource | None:
    """Where one fetch by ``settings`` looks up credentials: a source of its own over the
    ``auth`` option's entries, so that each fetch reads Docker's configuration afresh; None
    for anonymous access only."""
    given = settings.credentials
    return None if given is None else CredentialSource(given)
