"""songnuan (送温暖): a trade-union federation's holiday relief campaign, end to end."""

__version__ = "0.1.0"
