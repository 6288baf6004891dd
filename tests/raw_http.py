"""HTTP/1.1 written byte for byte on a socket, as an attacker would send it.

HTTP clients refuse to send header values that are not ASCII (or not UTF-8 at all); servers
must still answer them. :func:`raw_request` sends exactly the bytes given and reads the whole
answer (``Connection: close``).
"""

import asyncio
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    """Header names lowercased."""
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


async def raw_request(
    base_url: str, method: str, path: str, headers: list[tuple[str, bytes]], body: bytes = b""
) -> RawResponse:
    """Send one request with header values as raw bytes; the answer, parsed."""
    url = urlsplit(base_url)
    assert url.hostname is not None and url.port is not None
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    head = [f"{method} {path} HTTP/1.1".encode(), f"Host: {url.netloc}".encode()]
    head += [name.encode() + b": " + value for name, value in headers]
    head += [f"Content-Length: {len(body)}".encode(), b"Connection: close"]
    writer.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), timeout=30)
    writer.close()
    await writer.wait_closed()
    status_line, _, rest = answer.partition(b"\r\n")
    header_block, _, content = rest.partition(b"\r\n\r\n")
    parsed = {}
    for line in header_block.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        parsed[name.strip().lower()] = value.strip()
    return RawResponse(int(status_line.split()[1]), parsed, content)
