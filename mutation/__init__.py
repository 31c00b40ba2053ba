"""Mutation testing of the modules the refactors stand on (`make mutation`); see TESTING.md."""
