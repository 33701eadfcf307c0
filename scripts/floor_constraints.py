"""The oldest versions pyproject.toml allows, as pip constraints; or a check that they are
what is installed.

    python scripts/floor_constraints.py            # name==floor lines, for pip -c
    python scripts/floor_constraints.py --check    # exit 1 unless the floors are installed

A floor is a requirement's ``>=`` bound, read from the build requirements, the dependencies,
every extra and every dependency group; a name given more than one floor takes the highest.
``--check`` (run by the environment that installed them) fails when a floor of the
dependencies, the ``sphinx`` extra or the ``floors`` group is not the version installed.
"""

from __future__ import annotations

import sys
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
# What the floors job installs, so what must be found at its floor.
INSTALLED_BY_THE_JOB = ("dependencies", "extra:sphinx", "group:floors")


def requirements(project: dict[str, Any]) -> dict[str, list[Requirement]]:
    """Every requirement of the project, by where it is declared."""
    found = {
        "build": project["build-system"]["requires"],
        "dependencies": project["project"]["dependencies"],
    }
    for extra, listed in project["project"].get("optional-dependencies", {}).items():
        found[f"extra:{extra}"] = listed
    for group, listed in project.get("dependency-groups", {}).items():
        # {include-group = ...} tables name requirements declared elsewhere.
        found[f"group:{group}"] = [item for item in listed if isinstance(item, str)]
    name = canonicalize_name(project["project"]["name"])
    return {
        where: [
            requirement
            for requirement in map(Requirement, listed)
            if canonicalize_name(requirement.name) != name
        ]
        for where, listed in found.items()
    }


def floor_of(requirement: Requirement) -> Version | None:
    """The version of the requirement's ``>=`` bound, if it has one."""
    bounds = [Version(spec.version) for spec in requirement.specifier if spec.operator == ">="]
    return max(bounds) if bounds else None


def floors(declared: dict[str, list[Requirement]]) -> dict[str, tuple[Version, Requirement]]:
    """Each name's highest floor, with the requirement that sets it."""
    found: dict[str, tuple[Version, Requirement]] = {}
    for listed in declared.values():
        for requirement in listed:
            floor = floor_of(requirement)
            name = canonicalize_name(requirement.name)
            if floor is not None and (name not in found or floor > found[name][0]):
                found[name] = (floor, requirement)
    return found


def main() -> int:
    """Print the constraints, or check them with ``--check``."""
    declared = requirements(tomllib.loads(PYPROJECT.read_text(encoding="utf-8")))
    lowest = floors(declared)
    if "--check" not in sys.argv[1:]:
        for name, (floor, requirement) in sorted(lowest.items()):
            marker = f"; {requirement.marker}" if requirement.marker else ""
            print(f"{name}=={floor}{marker}")
        return 0
    problems = []
    for where in INSTALLED_BY_THE_JOB:
        for requirement in declared.get(where, []):
            name = canonicalize_name(requirement.name)
            if name not in lowest or (requirement.marker and not requirement.marker.evaluate()):
                continue
            try:
                installed = version(name)
            except PackageNotFoundError:
                installed = "nothing"
            if installed == "nothing" or Version(installed) != lowest[name][0]:
                problems.append(f"{name}: {installed} installed, the floor is {lowest[name][0]}")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
