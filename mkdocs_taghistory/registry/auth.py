"""The registry token flow: read a 401's Bearer challenge, fetch a token, share it per repo."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.reference import ImageReference
from mkdocs_taghistory.registry.responses import RETRY_STATUSES, parse_json
from mkdocs_taghistory.registry.sender import Sender
from mkdocs_taghistory.registry.tokens import (
    BearerChallenge,
    TokenFetcher,
    TokenStore,
    parse_bearer_challenge,
)
from mkdocs_taghistory.settings import Credentials

_TOKEN_LIFETIME_DEFAULT_SECONDS = 60
_MAX_TOKEN_LIFETIME = 86_400
_MAX_TOKEN_BYTES = 1024 * 1024
# A request answered 401 asks for a token and tries again; while other requests renew tokens
# that die under it, it may need a few rounds, never more than these.
_MAX_AUTH_ROUNDS = 5
# The repository a distribution API path is about, for the scope of an anonymous token.
_REPOSITORY_IN_PATH = re.compile(r"^/v2/(.+?)/(?:tags|manifests|blobs)/")


@dataclass(frozen=True)
class ApiCall:
    """One call of the distribution API, as the session asks it of the authenticator.

    Attributes:
        reference: the image it is for (its host's credentials, its repository's token).
        method: ``GET`` or ``HEAD``.
        url: the address, on the registry or on a host it redirected to.
        headers: what to send besides authorization.
        max_bytes: the most of an answer that is read.
    """

    reference: ImageReference
    method: str
    url: str
    headers: Mapping[str, str] | None
    max_bytes: int


class Authenticator:
    """Authenticates registry calls: the registry's own token or credentials on its origin,
    an anonymous token on a host it redirected to.

    Answers a Bearer challenge with a token (asked with the host's credentials, if any), a
    Basic challenge with the host's credentials; a token serves every request to its
    repository. Docker's identity token is traded through the OAuth2 refresh-token flow.
    """

    def __init__(
        self,
        sender: Sender,
        credentials_for: Callable[[str], Credentials | None],
        speaks_tls: Callable[[ImageReference], bool],
    ) -> None:
        """Send through ``sender``; look credentials and the scheme up per host."""
        self._sender = sender
        self._credentials_for = credentials_for
        self._speaks_tls = speaks_tls
        self._tokens = TokenStore()
        # Hosts that asked for Basic authentication: later requests send it at once.
        self._basic_hosts: set[str] = set()

    async def on_registry(
        self, call: ApiCall, *, urgent: bool = False
    ) -> tuple[httpx.Response, bytes]:
        """One call on the registry's own origin, with its token or credentials (``urgent``:
        a redirect's next hop, see :meth:`.Sender.send`)."""
        reference = call.reference
        token_key = f"{reference.api_host}/{reference.repository}"
        credentials = self._credentials_for(reference.host)
        fetch_token, fetched_here = self._token_fetcher(
            reference,
            credentials,
            f"repository:{reference.repository}:pull",
            over_tls=self._speaks_tls(reference),
        )
        token = await self._tokens.token(token_key, fetch_token)
        authorization = self._authorization(reference, token, credentials)
        for round_number in range(_MAX_AUTH_ROUNDS):
            # A token asked with the host's credentials is as secret as they are.
            response, body = await self._send(
                call,
                authorization,
                urgent or round_number > 0,
                credentialed=credentials is not None and authorization is not None,
            )
            if response.status_code != 401:
                return response, body
            if token is not None and token in fetched_here:
                break  # a token fetched for this very request is refused: no use asking again
            challenge_header = response.headers.get("WWW-Authenticate", "")
            challenge = parse_bearer_challenge(challenge_header)
            if challenge is not None:
                # Another request may have renewed the token already; a token that died in
                # the meantime is met by the next round.
                token = await self._tokens.renew(token_key, token, challenge, fetch_token)
                authorization = f"Bearer {token}"
            elif not challenge_header.strip():
                break  # a bare 401: refused, whatever we send
            elif challenge_header.lower().startswith("basic"):
                if credentials is None or authorization is not None:
                    break
                self._basic_hosts.add(reference.api_host)
                authorization = credentials.basic_authorization()
            else:
                raise RegistryError(
                    f"{reference.host} asks for an authentication scheme this plugin does not "
                    "speak",
                )
        raise self.refused(reference)

    async def elsewhere(self, call: ApiCall) -> tuple[httpx.Response, bytes]:
        """One call on a host the registry redirected to: no credentials, an anonymous token
        if that host asks for one."""
        target = httpx.URL(call.url)
        repository = _REPOSITORY_IN_PATH.match(target.path)
        default_scope = f"repository:{repository.group(1)}:pull" if repository else ""
        token_key = f"{target.scheme}://{target.netloc.decode()} {default_scope}"
        fetch_token, fetched_here = self._token_fetcher(
            call.reference, None, default_scope, over_tls=target.scheme == "https"
        )
        token = await self._tokens.token(token_key, fetch_token)
        for _ in range(_MAX_AUTH_ROUNDS):
            # A redirect's next hop: urgent.
            response, body = await self._send(
                call, f"Bearer {token}" if token else None, True, credentialed=False
            )
            challenge = parse_bearer_challenge(response.headers.get("WWW-Authenticate", ""))
            if response.status_code != 401 or challenge is None or token in fetched_here:
                return response, body
            token = await self._tokens.renew(token_key, token, challenge, fetch_token)
        return response, body

    async def _send(
        self, call: ApiCall, authorization: str | None, urgent: bool, *, credentialed: bool
    ) -> tuple[httpx.Response, bytes]:
        return await self._sender.send(
            call.reference,
            call.method,
            call.url,
            headers=call.headers,
            authorization=authorization,
            max_bytes=call.max_bytes,
            urgent=urgent,
            credentialed=credentialed,
        )

    def _token_fetcher(
        self,
        reference: ImageReference,
        credentials: Credentials | None,
        default_scope: str,
        *,
        over_tls: bool,
    ) -> tuple[TokenFetcher, list[str]]:
        """A fetcher for the token store, and the tokens it fetches for this one call (a
        token fetched for the very call it is refused in is not asked for again)."""
        fetched: list[str] = []

        async def fetch(challenge: BearerChallenge) -> tuple[str, float]:
            token, lifetime = await self._fetch_token(
                reference, challenge, credentials, default_scope, over_tls=over_tls
            )
            fetched.append(token)
            return token, lifetime

        return fetch, fetched

    def refused(self, reference: ImageReference) -> RegistryError:
        """The error for a registry that will not let us in, saying what would help."""
        if self._credentials_for(reference.host) is None:
            reason = (
                f"{reference.host} asks for credentials for {reference.name}: give them in the "
                "plugin's 'auth' option or log in with 'docker login'"
            )
        else:
            reason = f"authentication failed for {reference.name}"
        return RegistryError(reason)

    def _authorization(
        self, reference: ImageReference, token: str | None, credentials: Credentials | None
    ) -> str | None:
        if token is not None:
            return f"Bearer {token}"
        if reference.api_host in self._basic_hosts and credentials is not None:
            return str(credentials.basic_authorization())
        return None

    async def _fetch_token(
        self,
        reference: ImageReference,
        challenge: BearerChallenge,
        credentials: Credentials | None,
        default_scope: str,
        *,
        over_tls: bool,
    ) -> tuple[str, float]:
        """A token for ``challenge``, asked with ``credentials`` (None: anonymously)."""
        params = {"scope": challenge.scope or default_scope}
        if not params["scope"]:
            del params["scope"]
        if challenge.service:
            params["service"] = challenge.service
        if challenge.realm.startswith("http://") and over_tls:
            # The registry is spoken to over HTTPS; its credentials, and the token, must not
            # cross the network in the clear to a token server it names.
            raise RegistryError(
                f"{reference.host} names a token server over plain HTTP ({challenge.realm}); "
                "not used",
            )
        if credentials is not None and credentials.is_identity_token:
            # Docker's identity token is an OAuth refresh token: it is traded, not sent as a
            # password (the distribution spec's OAuth2 token flow).
            form = {
                **params,
                "grant_type": "refresh_token",
                "client_id": "mkdocs-taghistory",
                "refresh_token": credentials.password,
            }
            response, body = await self._sender.send(
                reference,
                "POST",
                challenge.realm,
                max_bytes=_MAX_TOKEN_BYTES,
                form=form,
                urgent=True,
                credentialed=True,
            )
        else:
            authorization = credentials.basic_authorization() if credentials else None
            url = str(httpx.URL(challenge.realm).copy_merge_params(params))
            response, body = await self._sender.send(
                reference,
                "GET",
                url,
                authorization=authorization,
                max_bytes=_MAX_TOKEN_BYTES,
                urgent=True,
                credentialed=credentials is not None,
            )
        if response.status_code in {401, 403}:
            raise self.refused(reference)
        if response.status_code != 200:
            raise RegistryError(
                f"the token server of {reference.host} answered HTTP {response.status_code}",
                transient=response.status_code in RETRY_STATUSES,
            )
        document = parse_json(body, "token")
        token = document.get("token") if isinstance(document, dict) else None
        token = token or (document.get("access_token") if isinstance(document, dict) else None)
        if not isinstance(token, str) or not token:
            raise RegistryError("the token server gave no token", transient=True)
        lifetime = document.get("expires_in")
        seconds = lifetime if isinstance(lifetime, int) and lifetime > 0 else None
        # A day at most: no build lasts longer, and a 400-digit lifetime is no float.
        return token, float(min(seconds or _TOKEN_LIFETIME_DEFAULT_SECONDS, _MAX_TOKEN_LIFETIME))
