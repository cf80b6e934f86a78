"""Service definition files: the YAML reader (``yaml.safe_load`` semantics, refusing a key given
twice) and the definitions shipped in ``participation/service_definitions/``."""

from __future__ import annotations

from pathlib import Path

from .errors import ServiceDefinitionError
from .objects import ServiceDef
from .schema import parse_service_definition

SHIPPED_DEFINITIONS_DIR = Path(__file__).resolve().parent.parent / "service_definitions"


def shipped_definition_paths() -> list[Path]:
    """The service definitions shipped with the project, sorted by file name."""
    return sorted(SHIPPED_DEFINITIONS_DIR.glob("*.yaml"))


def _yaml_loader():
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class UniqueKeyLoader(base):  # type: ignore[misc, valid-type]
        """yaml.safe_load, refusing a key given twice in one mapping (YAML would keep the last)."""

    def construct_mapping(loader, node, deep=False):
        seen: set = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)

    UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return UniqueKeyLoader


def load_service_definition_text(text: str, source: str = "<definition>") -> ServiceDef:
    """Parse YAML text (``yaml.safe_load`` semantics) into a ``ServiceDef``."""
    import yaml

    try:
        data = yaml.load(text, Loader=_yaml_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else source
        raise ServiceDefinitionError([f"{where}: invalid YAML in {source}: {problem}"]) from exc
    return parse_service_definition(data)


def load_service_definition_file(path: str | Path) -> ServiceDef:
    """Read and parse a service definition YAML file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ServiceDefinitionError([f"{path}: cannot be read ({exc.strerror or exc})"]) from exc
    except UnicodeDecodeError as exc:
        raise ServiceDefinitionError([f"{path}: is not UTF-8 text ({exc.reason})"]) from exc
    return load_service_definition_text(text, source=path.name)
