"""Every record of the package behaves as the ``typing.NamedTuple`` it stands for.

Type checkers see each :class:`Record` as a ``typing.NamedTuple``; at run time it is made by
:mod:`mkdocs_taghistory.records`. Each record found in the package is held here to what
``collections.namedtuple`` (the class ``typing.NamedTuple`` builds on) makes of the same fields
and defaults: construction, its errors, repr, equality, hashing, ``_replace``, ``_asdict``,
``_make``, pickling and immutability.
"""

import collections
import copy
import importlib
import pickle
import pkgutil
import sys
from typing import Any, NamedTuple

import pytest

import mkdocs_taghistory
from mkdocs_taghistory.records import Record


def _package_records() -> list[type]:
    found: dict[str, type] = {}
    for module_info in pkgutil.walk_packages(mkdocs_taghistory.__path__, "mkdocs_taghistory."):
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if isinstance(value, type) and Record in value.__bases__:
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[name] for name in sorted(found)]


RECORDS = _package_records()


def _values(record: type, tag: str) -> tuple[object, ...]:
    """A distinct, picklable value per field."""
    return tuple(f"{tag}-{field}" for field in record._fields)  # type: ignore[attr-defined]


def _twin(record: type) -> Any:
    """What ``typing.NamedTuple`` would have made of ``record``'s fields and defaults."""
    fields: tuple[str, ...] = record._fields  # type: ignore[attr-defined]
    defaults: dict[str, object] = record._field_defaults  # type: ignore[attr-defined]
    return collections.namedtuple(record.__name__, fields, defaults=tuple(defaults.values()))


def _outcome(attempt: Any, made: Any) -> object:
    try:
        return attempt(made)
    except (TypeError, ValueError, AttributeError) as error:
        return type(error), str(error)


def test_the_package_has_its_records() -> None:
    # Some forty records: a scan that found none would pass everything below.
    assert len(RECORDS) >= 30
    names = {record.__name__ for record in RECORDS}
    assert {"Piece", "TagSnapshot", "Settings", "ImageReference", "TableView"} <= names


@pytest.mark.parametrize("record", RECORDS, ids=lambda record: record.__qualname__)
def test_a_record_is_made_and_read_as_its_named_tuple_twin(record: Any) -> None:
    twin = _twin(record)
    # The fields are the class body's annotations, in order (the twin is built from _fields).
    assert record._fields == tuple(vars(record)["__annotations__"]) != ()
    assert record._fields == twin._fields
    assert record.__match_args__ == twin.__match_args__
    values = _values(record, "a")
    made: Any = record(*values)
    expected: Any = twin(*values)
    assert tuple(made) == tuple(expected)
    if "__repr__" not in vars(record):  # a record may say less (Credentials hides a password)
        assert repr(made) == repr(expected)
    assert made == expected and hash(made) == hash(expected)
    assert issubclass(record, tuple)
    assert record(**dict(zip(record._fields, values, strict=True))) == made
    for index, field in enumerate(record._fields):
        assert getattr(made, field) == values[index]
    required = len(record._fields) - len(record._field_defaults)
    with_defaults, twin_defaults = record(*values[:required]), twin(*values[:required])
    assert tuple(with_defaults) == tuple(twin_defaults)
    assert made._asdict() == expected._asdict()
    other = _values(record, "b")
    changes = {record._fields[-1]: other[-1]}
    assert tuple(made._replace(**changes)) == tuple(expected._replace(**changes))
    assert type(made._replace(**changes)) is record
    assert tuple(record._make(other)) == other and type(record._make(other)) is record
    copied = pickle.loads(pickle.dumps(made))
    assert copied == made and type(copied) is record


@pytest.mark.parametrize("record", RECORDS, ids=lambda record: record.__qualname__)
def test_a_record_refuses_what_its_twin_refuses(record: Any) -> None:
    twin = _twin(record)
    values = _values(record, "a")
    required = len(record._fields) - len(record._field_defaults)
    for attempt in (
        lambda made: made(*values, "one too many"),
        lambda made: made(*values, unexpected=1),
        lambda made: made(*values[: required - 1]) if required else TypeError,
        lambda made: made._make((*values, "one too many")),
        lambda made: made(*values)._replace(unexpected=1),
        lambda made: made(*values, **{made._fields[0]: "twice"}),
    ):
        assert _outcome(attempt, record) == _outcome(attempt, twin)
    made = record(*values)
    with pytest.raises(AttributeError):
        setattr(made, record._fields[0], "changed")
    with pytest.raises(AttributeError):
        made.not_a_field = 1  # no __dict__: a record holds its fields only


def _record_of(arity: int) -> Any:
    """A record of ``arity`` fields, the last one defaulted, kept in this module (as pickle
    finds a class)."""
    name = f"_Wide{arity}"
    namespace: dict[str, Any] = {
        "__annotations__": {f"field{index}": "str" for index in range(arity)},
        "__module__": __name__,
        "__qualname__": name,
        f"field{arity - 1}": "default",
    }
    maker: Any = type(Record)  # the metaclass that makes records of their annotations
    record = maker(name, (Record,), namespace)
    globals()[name] = record
    return record


@pytest.mark.parametrize("arity", range(1, 23))
def test_a_record_of_any_number_of_fields_is_its_twin(arity: int) -> None:
    # Up to 20 fields a record's constructor is written in records.py; past that, compiled.
    record = _record_of(arity)
    test_a_record_is_made_and_read_as_its_named_tuple_twin(record)
    test_a_record_refuses_what_its_twin_refuses(record)


class _Point(Record):
    """A record of this test, with a method and a default."""

    x: int
    y: int = 0

    def moved(self, by: int) -> "_Point":
        return self._replace(x=self.x + by)


class _TypedPoint(NamedTuple):
    x: int
    y: int = 0


def test_a_record_keeps_its_methods_docstring_and_defaults() -> None:
    point = _Point(1)
    assert point == _Point(1, 0)
    assert tuple(point) == tuple(_TypedPoint(1))
    assert point.moved(2) == _Point(3, 0)
    assert _Point.__doc__ == "A record of this test, with a method and a default."
    assert _Point._field_defaults == _TypedPoint._field_defaults == {"y": 0}
    assert repr(point) == "_Point(x=1, y=0)"


def test_a_subclass_of_a_record_is_a_class_with_its_fields() -> None:
    class Labelled(_Point):
        def label(self) -> str:
            return f"{self.x},{self.y}"

    assert Labelled(1, 2).label() == "1,2"
    assert Labelled._fields == ("x", "y")


def test_a_field_without_a_default_after_one_with_is_refused() -> None:
    with pytest.raises(TypeError, match="follows 'x'"):

        class Broken(Record):
            x: int = 0
            y: int  # type: ignore[misc]


def test_a_record_is_replaced_as_copy_replace_asks() -> None:
    point = _Point(1, 2)
    assert point.__replace__(y=5) == _Point(1, 5)  # type: ignore[attr-defined]
    if sys.version_info >= (3, 13):  # copy.replace is new in 3.13
        assert copy.replace(point, x=0) == _Point(0, 2)  # type: ignore[attr-defined]


def test_a_field_starting_with_an_underscore_is_refused_as_named_tuples_refuse_it() -> None:
    with pytest.raises(ValueError, match="underscore: '_fields'"):

        class Clash(Record):
            _fields: int  # type: ignore[misc]
