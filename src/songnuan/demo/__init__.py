"""The demo city of `make run`: the top of the layers, since it fills every app below it."""
