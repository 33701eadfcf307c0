"""The scan of reStructuredText and MyST sources that lets a Sphinx build fetch every image
before it reads a document: what it finds, with its options and line, what it skips, and what
was most likely meant as a directive; and the configuration values a Sphinx build warns of."""

from __future__ import annotations

from mkdocs_taghistory.directive import PageScan
from mkdocs_taghistory.sphinx.config_values import unknown_values
from mkdocs_taghistory.sphinx.sources import (
    find_myst_directives,
    find_rst_directives,
    quoted_image,
    scan_myst,
    scan_rst,
)

RST = """\
Title
=====

.. tag-history:: rust
   :limit: 5
   :Registry: ghcr.io/acme

   Not an option: the body (docutils refuses it).

.. note::

   .. TAG-HISTORY:: cgr.dev/chainguard/go

* a list item

  .. tag-history:: python

.. code-block:: rst

   .. tag-history:: in-a-code-block

An example::

   .. tag-history:: in-a-literal-block

A paragraph over
two lines, with an example::

    .. tag-history:: in-a-literal-block-too

..
   .. tag-history:: in-a-comment

.. a comment with .. tag-history:: in-its-text

.. _target:

.. tag-history:: last
"""


def test_rst_scan_finds_directives_in_containers_with_their_options_and_lines() -> None:
    found = [(found.image, found.line, dict(found.options)) for found in find_rst_directives(RST)]
    assert found == [
        ("rust", 4, {"limit": "5", "registry": "ghcr.io/acme"}),
        ("cgr.dev/chainguard/go", 12, {}),
        ("python", 16, {}),
        ("last", 38, {}),
    ]


def test_rst_scan_skips_code_literal_blocks_and_comments() -> None:
    images = {directive.image for directive in find_rst_directives(RST)}
    assert not any(image.startswith("in-") for image in images)


MYST = """\
# Title

```{tag-history} rust
:limit: 5
:registry: ghcr.io/acme
```

````{note}
```{tag-history} cgr.dev/chainguard/go
---
registry: "ignored-by-full-reference"
sort: tag
---
```
````

:::{tag-history} colon-fenced
:::

```markdown
```{tag-history} in-a-code-fence
```

~~~{code-block} markdown
```{tag-history} in-a-code-block
```
~~~

```{eval-rst}
.. tag-history:: embedded-rst
   :registry: ghcr.io/acme
```

<!--
```{tag-history} in-a-comment
```
-->

```{tag-history} last
```
"""


def test_myst_scan_finds_fenced_directives_with_field_and_yaml_options() -> None:
    found = [(found.image, found.line, dict(found.options)) for found in find_myst_directives(MYST)]
    assert found == [
        ("rust", 3, {"limit": "5", "registry": "ghcr.io/acme"}),
        ("cgr.dev/chainguard/go", 9, {"registry": "ignored-by-full-reference", "sort": "tag"}),
        ("colon-fenced", 17, {}),
        ("embedded-rst", 30, {"registry": "ghcr.io/acme"}),
        ("last", 39, {}),
    ]


def test_myst_scan_skips_code_fences_and_comments() -> None:
    images = {directive.image for directive in find_myst_directives(MYST)}
    assert not any(image.startswith("in-") for image in images)


def test_options_go_on_over_lines_and_directives_stand_in_quotes() -> None:
    (rst,) = find_rst_directives(".. tag-history:: rust\n   :registry:\n      ghcr.io/acme\n")
    assert rst.options == {"registry": "ghcr.io/acme"}
    quoted = "> ```{tag-history} rust\n> ---\n> registry: ghcr.io/acme  # ours\n> ---\n> ```\n"
    (myst,) = find_myst_directives(quoted)
    assert (myst.image, myst.line, myst.options) == ("rust", 1, {"registry": "ghcr.io/acme"})


def test_a_directive_without_its_image_is_found_for_the_parser_to_report() -> None:
    (rst,) = find_rst_directives(".. tag-history::\n")
    (myst,) = find_myst_directives("```{tag-history}\n```\n")
    assert rst.image == myst.image == ""


def test_the_samples_hold_no_near_miss() -> None:
    assert scan_rst(RST).near_misses == scan_myst(MYST).near_misses == ()


def near_misses(scan: PageScan) -> list[tuple[int, str]]:
    return [(error.line, error.reason) for error in scan.near_misses]


def test_rst_near_misses_are_found_with_the_directive_to_write() -> None:
    source = (
        "Title\n=====\n\n"
        ".. tag_history:: rust\n\n"
        ".. taghistroy:: rust\n\n"
        ".. tag-history: rust\n\n"
        ".. tag history:: rust\n\n"
        '<< tag_history "rust" >>\n\n'
        "::\n\n"
        "   .. taghistory:: in-a-literal-block\n"
    )
    assert near_misses(scan_rst(source)) == [
        (4, "unknown directive 'tag_history'; write .. tag-history:: rust"),
        (6, "unknown directive 'taghistroy'; write .. tag-history:: rust"),
        (
            8,
            "'.. tag-history: rust' is a comment, so nothing is shown; write .. tag-history:: rust",
        ),
        (
            10,
            "'.. tag history:: rust' is a comment, so nothing is shown; "
            "write .. tag-history:: rust",
        ),
        (
            12,
            "the Markdown directive of MkDocs is text in a Sphinx project; "
            "write .. tag-history:: rust",
        ),
    ]


def test_myst_near_misses_are_found_with_the_directive_to_write() -> None:
    source = (
        "# Title\n\n"
        "```{tag_history} rust\n```\n\n"
        "```tag-history rust\n```\n\n"
        ".. tag-history:: rust\n\n"
        "<< tag_history 'rust' >>\n\n"
        '```markdown\n<< taghistory "in-code" >>\n```\n\n'
        "```{eval-rst}\n.. taghistory:: rust\n```\n"
    )
    write = "write ```{tag-history} rust"
    assert near_misses(scan_myst(source)) == [
        (3, f"unknown directive 'tag_history'; {write}"),
        (6, f"a code block, not a directive (the name goes in braces); {write}"),
        (9, f"a reStructuredText directive is text in MyST; {write}"),
        (11, f"the Markdown directive of MkDocs is text in a Sphinx project; {write}"),
        (18, "unknown directive 'taghistory'; write .. tag-history:: rust"),
    ]


def test_a_quoted_image_is_told_to_drop_its_quotes_in_its_own_markup() -> None:
    assert quoted_image('"widget"', myst=False) == (
        "the image is written without quotes in a Sphinx directive: .. tag-history:: widget"
    )
    assert quoted_image("\u201cwidget\u201d", myst=True) == (
        "the image is written without quotes in a Sphinx directive: ```{tag-history} widget"
    )
    assert quoted_image("widget", myst=False) is None


def test_an_unknown_configuration_value_is_named_with_the_one_of_its_type_nearest() -> None:
    given = {"taghistory_tll": "6h", "taghistory_ttl": "1h", "html_theme": "x", "taghistory_x": 1}
    assert unknown_values(given) == [
        "unknown configuration value 'taghistory_tll' in conf.py, ignored; "
        "did you mean 'taghistory_ttl'?",
        "unknown configuration value 'taghistory_x' in conf.py, ignored",
    ]
