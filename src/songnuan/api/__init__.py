"""The JSON API: the same reads and writes as the pages, with the same permissions, described in OpenAPI."""
