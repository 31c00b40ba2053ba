"""formkit: the statistical tables as data, their rule engine, and one Excel reader and writer.

Plain Python with no Django import, so the `songnuan` command works without a database or a server;
the web app builds on it, never the other way round.
"""
