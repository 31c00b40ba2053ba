"""What the tree tells the apps above it, which it may not import (the layers)."""

from __future__ import annotations

from django.dispatch import Signal

#: A unit and its subtree were put under another unit, inside the move's transaction, after the paths were
#: rewritten. Arguments: `unit_id`, `old_path`, `new_path` (the moved unit's own).
unit_moved = Signal()
