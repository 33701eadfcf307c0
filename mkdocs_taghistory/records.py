"""Typed, immutable records: what ``typing.NamedTuple`` makes, for two fifths of its cost to
define.

Every build imports the modules on a page's way to its table, and they define some forty
records. ``typing.NamedTuple`` compiles a constructor from source for each (Python's parser,
at every import), compiles each field's annotation written as a string, and builds each class
twice; that was a third of the package's import, paid by every build (``bench/warm_page.py``).
A :class:`Record` is the same kind of class, a ``tuple`` with a field per annotation, made
once: its constructor is a template written out for its number of fields (so byte-compiled
with the package, not compiled at import), renamed; its other methods are shared; its
annotations are only read.

Type checkers are told a record *is* a ``typing.NamedTuple``, so they check fields, defaults
and construction as they always have; ``tests/unit/test_records.py`` holds every record of the
package to what ``typing.NamedTuple`` would have made of it.
"""

from __future__ import annotations

import functools
import importlib
import types
from collections.abc import Iterable
from operator import itemgetter
from typing import TYPE_CHECKING, Any

try:  # the C field accessor collections.namedtuple uses; a property where it is missing
    from collections import _tuplegetter  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - CPython has it

    def _tuplegetter(index: int, doc: str) -> property:
        return property(itemgetter(index), doc=doc)


__all__ = ["Record"]


_tuple_new = tuple.__new__

# The constructors of records of 1 to 20 fields, written out: byte-compiled with the package,
# where compiling them at import was 7 % of the package's import. Only the number of
# parameters counts: each record renames them to its fields (the names here are arbitrary).
# fmt: off
_WRITTEN_TEMPLATES: tuple[types.CodeType, ...] = tuple(template.__code__ for template in (
    lambda c, a: _tuple_new(c, (a,)),
    lambda c, a, b: _tuple_new(c, (a, b)),
    lambda c, a, b, d: _tuple_new(c, (a, b, d)),
    lambda c, a, b, d, e: _tuple_new(c, (a, b, d, e)),
    lambda c, a, b, d, e, f: _tuple_new(c, (a, b, d, e, f)),
    lambda c, a, b, d, e, f, g: _tuple_new(c, (a, b, d, e, f, g)),
    lambda c, a, b, d, e, f, g, h: _tuple_new(c, (a, b, d, e, f, g, h)),
    lambda c, a, b, d, e, f, g, h, i: _tuple_new(c, (a, b, d, e, f, g, h, i)),
    lambda c, a, b, d, e, f, g, h, i, j: _tuple_new(c, (a, b, d, e, f, g, h, i, j)),
    lambda c, a, b, d, e, f, g, h, i, j, k: _tuple_new(c, (a, b, d, e, f, g, h, i, j, k)),
    lambda c, a, b, d, e, f, g, h, i, j, k, m: _tuple_new(c, (a, b, d, e, f, g, h, i, j, k, m)),
    lambda c, a, b, d, e, f, g, h, i, j, k, m, n: _tuple_new(
        c, (a, b, d, e, f, g, h, i, j, k, m, n)
    ),
    lambda c, a, b, d, e, f, g, h, i, j, k, m, n, p: _tuple_new(
        c, (a, b, d, e, f, g, h, i, j, k, m, n, p)
    ),
    lambda c, a, b, d, e, f, g, h, i, j, k, m, n, p, q: _tuple_new(
        c, (a, b, d, e, f, g, h, i, j, k, m, n, p, q)
    ),
    lambda c, a, b, d, e, f, g, h, i, j, k, m, n, p, q, r: _tuple_new(
        c, (a, b, d, e, f, g, h, i, j, k, m, n, p, q, r)
    ),
    lambda c, a, b, d, e, f, g, h, i, j, k, m, n, p, q, r, s: _tuple_new(
        c, (a, b, d, e, f, g, h, i, j, k, m, n, p, q, r, s)
    ),
    lambda c, a, b, d, e, f, g, h, i, j, k, m, n, p, q, r, s, t: _tuple_new(
        c, (a, b, d, e, f, g, h, i, j, k, m, n, p, q, r, s, t)
    ),
    lambda c, a, b, d, e, f, g, h, i, j, k, m, n, p, q, r, s, t, u: _tuple_new(
        c, (a, b, d, e, f, g, h, i, j, k, m, n, p, q, r, s, t, u)
    ),
    lambda c, a, b, d, e, f, g, h, i, j, k, m, n, p, q, r, s, t, u, v: _tuple_new(
        c, (a, b, d, e, f, g, h, i, j, k, m, n, p, q, r, s, t, u, v)
    ),
    lambda c, a, b, d, e, f, g, h, i, j, k, m, n, p, q, r, s, t, u, v, w: _tuple_new(
        c, (a, b, d, e, f, g, h, i, j, k, m, n, p, q, r, s, t, u, v, w)
    ),
))
# fmt: on


@functools.cache
def _constructor_template(arity: int) -> types.CodeType:
    """The code of ``__new__(_cls, _0, ..., _n)`` making a tuple of its arguments: written
    above for up to 20 fields, else compiled once for its number; renamed for each record."""
    if 0 < arity <= len(_WRITTEN_TEMPLATES):
        return _WRITTEN_TEMPLATES[arity - 1]
    names = ", ".join(f"_{index}" for index in range(arity))
    source = (
        f"def __new__(_cls, {names}):\n    return _tuple_new(_cls, ({names}{',' * (arity == 1)}))\n"
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, "<record>", "exec"), namespace)  # our own fixed source
    code: types.CodeType = namespace["__new__"].__code__
    return code


def _constructor(
    qualified_name: str, fields: tuple[str, ...], defaults: tuple[Any, ...]
) -> types.FunctionType:
    """``__new__`` for a record of ``fields``: positional or keyword arguments, the last
    ones defaulted, and a TypeError naming what is missing or unexpected."""
    code = _constructor_template(len(fields)).replace(
        co_varnames=("_cls", *fields), co_name="__new__", co_qualname=f"{qualified_name}.__new__"
    )
    return types.FunctionType(code, {"_tuple_new": _tuple_new}, "__new__", defaults or None)


def _annotated_names(namespace: dict[str, Any]) -> tuple[str, ...]:
    """The names a class body annotates, in order: its ``__annotations__`` (Python before
    3.14, or any module with ``from __future__ import annotations``, as this package's), else
    what Python 3.14's deferred annotations give, read without evaluating them."""
    if "__annotations__" in namespace:
        return tuple(namespace["__annotations__"])
    try:
        annotationlib: Any = importlib.import_module("annotationlib")
    except ImportError:
        return ()
    annotate = annotationlib.get_annotate_from_class_namespace(namespace)
    if annotate is None:
        return ()
    forward = annotationlib.Format.FORWARDREF
    return tuple(annotationlib.call_annotate_function(annotate, forward))


class _RecordType(type):
    """Makes each direct subclass of :class:`Record` a tuple of its annotated fields."""

    def __new__(
        cls, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **options: Any
    ) -> _RecordType:
        # Record's own subclasses only: Record itself, and a subclass of a record, are classes.
        if not any(
            isinstance(base, _RecordType) and not hasattr(base, "_fields") for base in bases
        ):
            return super().__new__(cls, name, bases, namespace, **options)
        fields = _annotated_names(namespace)
        if bad := [field for field in fields if field.startswith("_")]:
            # As typing.NamedTuple: _fields, _make and the like are the record's own.
            raise ValueError(f"{name}: a field name cannot start with an underscore: {bad[0]!r}")
        defaulted = [field for field in fields if field in namespace]
        if defaulted and fields[-len(defaulted) :] != tuple(defaulted):
            raise TypeError(f"{name}: a field without a default follows {defaulted[0]!r}")
        defaults = tuple(namespace.pop(field) for field in defaulted)
        namespace.update(
            __slots__=(),
            _fields=fields,
            _field_defaults=dict(zip(defaulted, defaults, strict=True)),
            __match_args__=fields,
            __new__=_constructor(namespace.get("__qualname__", name), fields, defaults),
        )
        for index, field in enumerate(fields):
            namespace[field] = _tuplegetter(index, f"Alias for field number {index}")
        return super().__new__(cls, name, bases, namespace, **options)


class _RecordBase(tuple):  # type: ignore[type-arg]
    """What every record shares: the methods ``collections.namedtuple`` writes into each."""

    __slots__ = ()
    if TYPE_CHECKING:  # each record's own, set by _RecordType (not a field)
        _fields: tuple[str, ...]

    @classmethod
    def _make(cls, iterable: Iterable[Any]) -> Any:
        """A record of the values ``iterable`` yields, one a field."""
        made = tuple.__new__(cls, iterable)
        if len(made) != len(cls._fields):
            raise TypeError(f"Expected {len(cls._fields)} arguments, got {len(made)}")
        return made

    def _replace(self, /, **changes: Any) -> Any:
        """This record with the fields ``changes`` names set to its values."""
        made = self._make(map(changes.pop, self._fields, self))
        if changes:
            raise ValueError(f"Got unexpected field names: {list(changes)!r}")
        return made

    # copy.replace (Python 3.13 on) asks for this, as it does of a named tuple.
    __replace__ = _replace

    def _asdict(self) -> dict[str, Any]:
        """The fields and their values, in order."""
        return dict(zip(self._fields, self, strict=True))

    def __getnewargs__(self) -> tuple[Any, ...]:
        """What pickle and copy make the record again from."""
        return tuple(self)

    def __repr__(self) -> str:
        """``Name(field=value, ...)``, as a named tuple writes itself."""
        values = ", ".join(
            f"{name}={value!r}" for name, value in zip(self._fields, self, strict=True)
        )
        return f"{type(self).__name__}({values})"


if TYPE_CHECKING:
    from typing import NamedTuple as Record
else:

    class Record(_RecordBase, metaclass=_RecordType):
        """Subclass it as ``typing.NamedTuple``: a field per annotation, defaults last."""

        __slots__ = ()
