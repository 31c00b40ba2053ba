"""The site shell: the base template every page extends and the stylesheets they share.

A leaf app: templates and static files only, no models, and it imports no other songnuan app (the base
template names the other apps' URLs, which is resolved when a page is rendered, not imported).
"""
