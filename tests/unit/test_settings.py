"""Site options: each bad value is an error naming the option, checked in-process; the build
that shows such an error to the user is tested once, in tests/e2e/test_plugin_errors.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from mkdocs.config.base import Config

from mkdocs_taghistory.filters import TagFilter
from mkdocs_taghistory.mkdocs_schema import schema
from mkdocs_taghistory.settings import ClientSettings, ConfigurationError, Settings
from mkdocs_taghistory.site_options import SITE_OPTIONS, Renamed, settings_from_options


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"registry": "cgr.dev/Not Valid"}, "option 'registry'"),
        ({"concurrency": 0}, "option 'concurrency': must be at least 1"),
        ({"timeout": 0}, "option 'timeout': must be seconds, more than 0"),
        ({"timeout": "5"}, "option 'timeout': must be seconds, more than 0"),
        ({"retries": -1}, "option 'retries': must be 0 to 10"),
        ({"insecure_registries": ["http://r.io"]}, "write host or host:port, without http://"),
        ({"include_tags": "(unclosed"}, "option 'include_tags': not a regular expression"),
        ({"auth": {"ghcr.io": {"username": "u"}}}, "option 'auth': ghcr.io: expected 'username'"),
        ({"vendors": {"r.io": {"type": "artifactory"}}}, "option 'vendors': r.io: 'type' must be"),
        ({"concurency": 4}, "concurency"),
        ({"labels": {"tag": "Tags"}}, "option 'labels': 'tag' is not a column"),
        ({"empty_message": "{title.nope}"}, "option 'empty_message'"),
        ({"certs_dirs": ["~nosuchuser-taghistory/x"]}, "option 'certs_dirs': cannot expand"),
        ({"as_of_note": "Cached."}, "option 'as_of_note': the sentence must say {date}"),
        ({"ttl": "99999999999999d"}, "option 'ttl'"),
        ({"ttl": 1e300}, "option 'ttl'"),
        ({"ttl": "soon"}, "option 'ttl'"),
        ({"ttl": True}, "option 'ttl'"),
    ],
)
def test_bad_site_option_is_an_error_naming_it(
    tmp_path: Path, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        settings_from_options(options, tmp_path)
    assert message in str(raised.value)


def test_the_vendor_catalogue_names_each_vendor_by_its_own_name() -> None:
    from mkdocs_taghistory.registry.vendors import VENDOR_CLASSES, load_vendor  # noqa: PLC0415

    assert all(load_vendor(name).name == name for name in VENDOR_CLASSES)


def test_every_setting_is_filled_by_one_declared_option() -> None:
    # A new option is one declaration: its reader fills one field; nothing else is set by hand.
    filled: dict[str, list[str]] = {}
    for option in SITE_OPTIONS:
        if option.field is not None:
            filled.setdefault(f"{option.part}.{option.field}", []).append(option.name)
    parts: dict[str, tuple[str, ...]] = {
        "site": Settings._fields,
        "client": ClientSettings._fields,
        "filter": TagFilter._fields,
    }
    wanted = {
        f"{part}.{name}"
        for part, names in parts.items()
        for name in names
        if name not in {"client", "tag_filter", "backoff"}  # made of the others; no option
    }
    assert set(filled) == wanted
    assert all(len(names) == 1 for names in filled.values()), filled


def test_client_defaults_are_declared_once(tmp_path: Path) -> None:
    client = settings_from_options({}, tmp_path).client
    assert client == ClientSettings()._replace(credentials=client.credentials)


def test_a_renamed_option_is_read_under_its_old_name_with_a_message(tmp_path: Path) -> None:
    renamed = (Renamed("max_requests", "concurrency"),)
    said: list[str] = []
    settings = settings_from_options(
        {"max_requests": 4}, tmp_path, warn=said.append, renamed=renamed
    )
    assert settings.client.concurrency == 4
    assert said == ["option 'max_requests' is now 'concurrency'; rename it in the configuration"]
    with pytest.raises(ConfigurationError, match="option 'max_requests': is now 'concurrency'"):
        settings_from_options({"max_requests": 4, "concurrency": 8}, tmp_path, renamed=renamed)


def test_mkdocs_moves_a_renamed_options_value_and_says_so() -> None:
    config_class = type("Renamed", (Config,), schema((Renamed("max_requests", "concurrency"),)))
    config = config_class()
    config.load_dict({"max_requests": 4})
    failed, warnings = config.validate()
    assert not failed
    assert config["concurrency"] == 4
    assert any("max_requests" in message and "concurrency" in message for _, message in warnings)
