"""Helpers shared by several test folders (importable: tests/ is on sys.path via rootdir)."""

import socket


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
