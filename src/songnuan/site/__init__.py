"""The site shell: the base template every page extends, the stylesheets they share, and the one way a
download is handed to the browser (`downloads.attachment`).

A leaf app: no models, and it imports no other songnuan app (the base template names the other apps' URLs,
which is resolved when a page is rendered, not imported), so every app may use it.
"""
