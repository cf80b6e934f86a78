import sys
import types

from . import selectors_stand_in

# Until achievement.selectors lands (issue 4, ingestion), stand in for the functions it lacks.
try:
    import achievement.selectors as _selectors
except ImportError:
    _selectors = types.ModuleType("achievement.selectors")
    sys.modules["achievement.selectors"] = _selectors
    import achievement

    achievement.selectors = _selectors
for _name in ("current_values", "list_size_on", "tick_box_values"):
    if not hasattr(_selectors, _name):
        setattr(_selectors, _name, getattr(selectors_stand_in, _name))
