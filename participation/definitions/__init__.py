"""Quality Service definitions: the YAML schema of ``load_quality_service``, parsed and validated.

Pure Python (no ORM, no Django):

- ``kinds``: the schema's words (indicator kinds and the sets of them the rules use, entry kinds,
  provider levels, FIELD_NAMEs), the one place they are written;
- ``objects``: the parsed definition, frozen dataclasses (``ServiceDef``, ``DomainDef``,
  ``GroupDef``, ``IndicatorDef``, ``AchievementDateDef``);
- ``schema``: the schema as pydantic models (the service's own keys; the catalogue's domains,
  groups and indicators in ``catalogue_schema``); ``parse_service_definition`` turns the YAML
  mapping into the dataclasses or raises ``ServiceDefinitionError`` listing the problems with the
  path of the bad key, e.g. ``domains[0].groups[2].indicators[1].upper: must be above lower``;
- ``files``: ``load_service_definition_file`` reads a YAML file (syntax errors and duplicate keys
  become a ``ServiceDefinitionError`` naming the line) and parses it.

The schema is documented in docs/service-definition-schema.md; the shipped services live in
``participation/service_definitions/*.yaml``.
"""

from .errors import ServiceDefinitionError
from .files import (
    SHIPPED_DEFINITIONS_DIR,
    load_service_definition_file,
    load_service_definition_text,
    shipped_definition_paths,
)
from .kinds import (
    AUTOMATIC,
    COMMISSIONER,
    COUNT,
    COUNT_FIELD,
    DEFAULT_REGISTER_FIELD,
    DENOMINATOR_FIELD,
    ENTRY_KINDS,
    FRACTION,
    INDICATOR_KINDS,
    MANAGEMENT_INFORMATION,
    MANUAL,
    NUMERATOR_FIELD,
    PAID_KINDS,
    PCN,
    PCN_LEVEL,
    PER_CAPITA,
    PER_ITEM,
    POINT_KINDS,
    PRACTICE_LEVEL,
    PROVIDER_LEVELS,
    REGISTER,
    TICK_BOX,
    TICK_BOX_KINDS,
    UNPAID_KINDS,
    VALUE_FIELD,
    YES_NO,
    YES_NO_FIELD,
    YES_NO_KINDS,
    default_fields,
    value_field,
)
from .objects import (
    AchievementDateDef,
    DomainDef,
    GroupDef,
    IndicatorDef,
    ServiceDef,
    financial_year_bounds,
)
from .schema import parse_service_definition

__all__ = [
    "AUTOMATIC",
    "COMMISSIONER",
    "COUNT",
    "COUNT_FIELD",
    "DEFAULT_REGISTER_FIELD",
    "DENOMINATOR_FIELD",
    "ENTRY_KINDS",
    "FRACTION",
    "INDICATOR_KINDS",
    "MANAGEMENT_INFORMATION",
    "MANUAL",
    "NUMERATOR_FIELD",
    "PAID_KINDS",
    "PCN",
    "PCN_LEVEL",
    "PER_CAPITA",
    "PER_ITEM",
    "POINT_KINDS",
    "PRACTICE_LEVEL",
    "PROVIDER_LEVELS",
    "REGISTER",
    "SHIPPED_DEFINITIONS_DIR",
    "TICK_BOX",
    "TICK_BOX_KINDS",
    "UNPAID_KINDS",
    "VALUE_FIELD",
    "YES_NO",
    "YES_NO_FIELD",
    "YES_NO_KINDS",
    "AchievementDateDef",
    "DomainDef",
    "GroupDef",
    "IndicatorDef",
    "ServiceDef",
    "ServiceDefinitionError",
    "default_fields",
    "value_field",
    "financial_year_bounds",
    "load_service_definition_file",
    "load_service_definition_text",
    "parse_service_definition",
    "shipped_definition_paths",
]
