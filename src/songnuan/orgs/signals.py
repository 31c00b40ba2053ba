"""What the tree tells the apps above it, which it may not import (the layers)."""

from __future__ import annotations

from django.dispatch import Signal

#: A unit is about to be put under another unit, inside the move's transaction, before any unit row is locked
#: or written: what the apps above lock for the move (the campaigns whose totals it changes) is locked here,
#: so that every writer takes its locks in one order — campaign, then units — and none waits in a cycle.
#: Argument: `unit_id`.
unit_moving = Signal()

#: A unit and its subtree were put under another unit, inside the move's transaction, after the paths were
#: rewritten. Arguments: `unit_id`, `old_path`, `new_path` (the moved unit's own).
unit_moved = Signal()
