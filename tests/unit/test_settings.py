"""Site options: each bad value is an error naming the option, checked in-process; the build
that shows such an error to the user is tested once, in tests/e2e/test_plugin_errors.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from mkdocs_taghistory.settings import ConfigurationError, settings_from_options


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
