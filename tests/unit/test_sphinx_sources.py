"""The scan of reStructuredText and MyST sources that lets a Sphinx build fetch every image
before it reads a document: what it finds, with its options and line, and what it skips."""

from __future__ import annotations

from mkdocs_taghistory.sphinx.sources import find_myst_directives, find_rst_directives

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
