"""The Sphinx twin of example_site/: the same tables from the same kind of cache."""

project = "mkdocs-taghistory example"
extensions = [
    "myst_parser",  # rust.md is MyST Markdown; options.rst is reStructuredText
    "mkdocs_taghistory.sphinx",
]
exclude_patterns = ["_build"]

# A bare name such as "rust" is looked up in each of these registries, one section each. The
# descriptions are read in the markup of the page the directive is on (here MyST Markdown).
taghistory_registries = [
    {
        "title": "Public Registry",
        "registry": "cgr.dev/chainguard",
        "description": (
            "The Public Registry contains our **Developer Images**, which typically comprise "
            "the `latest*` versions of an image."
        ),
    },
    {
        "title": "Private/Dedicated Registry",
        "registry": "cgr.dev/chainguard-private",
        "description": (
            "The Private/Dedicated Registry contains our **Production Images**, which include "
            "all versioned tags of an image and special images that are not available in the "
            "public registry (including FIPS images and other custom builds)."
        ),
    },
]
# This project builds from the cache committed beside it (.cache/taghistory), so that it builds
# the same anywhere, with no network and without the credentials that
# cgr.dev/chainguard-private asks for. Set this to False to fetch live tables; with network,
# each successful fetch rewrites the cache.
taghistory_offline = True
