"""Where webhooks may go: receivers on loopback, private networks or the internet; never
link-local, multicast, unspecified, reserved or cloud-metadata addresses, never the mock's
own control API.

Anyone who can register a consumer chooses where the mock sends requests; without these rules
the deliveries log would be a port scanner and ``169.254.169.254`` one registration away.
Loopback and private addresses stay open because test receivers and container networks live
there.

A URL is checked twice: when the consumer is registered (its text, and the addresses its
name resolves to then), and when each attempt connects (:class:`CheckedBackend` resolves the
name, checks every address and connects to a checked one, so a name that changes its answer
between the check and the connection gains nothing).
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
import socket
from collections.abc import Callable, Iterable
from urllib.parse import unquote, urlsplit

import httpcore
import httpx

#: ``(host, port) -> addresses``; tests inject their own so that nothing needs a network.
Resolver = Callable[[str, int], list[str]]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Cloud instance-metadata endpoints that sit outside the ranges refused below.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, ...
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS over IPv6 (a private range otherwise allowed)
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure wire server
        "192.0.0.192",  # Oracle Cloud
    )
)
METADATA_NAMES = frozenset(
    {"metadata", "metadata.google.internal", "metadata.goog", "instance-data"}
)
#: "This network": Linux connects 0.x.x.x to the local host, so ``http://0/`` reaches it.
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)")
_CONTROL_PREFIX = "/_mock"


class TargetRefused(Exception):
    """A webhook target the mock will not send to. ``reason`` is one word (it is all the
    deliveries log shows); ``str()`` explains it to the one who registered the URL."""

    def __init__(self, reason: str, explanation: str) -> None:
        super().__init__(explanation)
        self.reason = reason


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the operating system resolves ``host`` to."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def address_refusal(address: IPAddress) -> TargetRefused | None:
    """Why ``address`` is no webhook target, if it is not."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return address_refusal(embedded)
    if address in METADATA_ADDRESSES:
        return TargetRefused("metadata", f"{address} is a cloud metadata endpoint")
    if address.is_loopback:
        return None  # ::1 sits inside the reserved ::/8
    if address.is_unspecified or address in _THIS_NETWORK:
        return TargetRefused("unspecified", f"{address} is an unspecified address")
    if address.is_link_local:
        return TargetRefused("link-local", f"{address} is a link-local address")
    if address.is_multicast:
        return TargetRefused("multicast", f"{address} is a multicast address")
    if address.is_reserved or (
        isinstance(address, ipaddress.IPv6Address) and address.is_site_local
    ):
        return TargetRefused("reserved", f"{address} is a reserved address")
    return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(address, ipaddress.IPv4Address):
        return None
    return address.ipv4_mapped or address.sixtofour


class TargetPolicy:
    """The rules above, resolving names with ``resolver``."""

    def __init__(self, resolver: Resolver = system_resolver) -> None:
        self._resolver = resolver

    def check_url(self, url: str) -> None:
        """Refuse a URL by its text alone: scheme, host spelling, the control API's path."""
        refused = TargetRefused("url", "url must be an http:// or https:// address")
        try:
            parts = urlsplit(url)
            port = parts.port
            # The URL as the sender (httpx) reads it; where two parsers disagree on the host
            # or the path, a check made on one reading proves nothing about the other.
            sent = httpx.URL(url)
        except (ValueError, httpx.InvalidURL):
            if not url.isascii():
                raise TargetRefused(
                    "encoding", "write the host in ASCII (punycode for names)"
                ) from None
            raise refused from None
        host = parts.hostname
        if parts.scheme not in ("http", "https") or not host:
            raise refused
        default = 443 if parts.scheme == "https" else 80
        if sent.raw_host.decode("ascii").lower() != host or (sent.port or default) != (
            port or default
        ):
            raise TargetRefused("url", "url is ambiguous: write it plainly")
        _check_host_spelling(host)
        if host.rstrip(".") in METADATA_NAMES:
            raise TargetRefused("metadata", f"{host} is a cloud metadata endpoint")
        if _is_control_path(parts.path) or _is_control_path(sent.path):
            raise TargetRefused("control", "webhooks may not target the mock's control API")

    def check_registration(self, url: str) -> None:
        """Everything :meth:`check_url` checks, and the addresses the name has now.

        A name that does not resolve yet (a container not started) is let through: each
        attempt resolves it again and is refused then if need be.
        """
        self.check_url(url)
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            self.addresses(host, parts.port or (443 if parts.scheme == "https" else 80))
        except TargetRefused as refused:
            if refused.reason != "dns":
                raise

    def addresses(self, host: str, port: int) -> list[str]:
        """The addresses of ``host``, every one checked; TargetRefused if any is refused
        (reason ``dns`` when the name does not resolve)."""
        literal = _ip_literal(host)
        if literal is not None:
            found: Iterable[str] = [str(literal)]
        else:
            try:
                found = self._resolver(host, port)
            except (OSError, UnicodeError):
                raise TargetRefused("dns", f"{host} does not resolve") from None
        addresses = list(dict.fromkeys(found))
        if not addresses:
            raise TargetRefused("dns", f"{host} does not resolve")
        for text in addresses:
            address = _ip_literal(text)
            if address is None:
                raise TargetRefused("dns", f"{host} resolves to something that is no address")
            refusal = address_refusal(address)
            if refusal is not None:
                raise refusal
        return addresses


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _check_host_spelling(host: str) -> None:
    """Refuse hosts that different parsers read differently: decimal, octal, hex and short
    IPv4 forms (``2130706433``, ``0177.0.0.1``, ``0x7f.1``, ``0``), IPv6 zones, non-ASCII."""
    if not host.isascii():
        raise TargetRefused("encoding", "write the host in ASCII (punycode for names)")
    if "%" in host:
        raise TargetRefused("encoding", "an IPv6 zone is not allowed in a webhook url")
    literal = _ip_literal(host)
    if literal is not None:
        refusal = address_refusal(literal)
        if refusal is not None:
            raise refusal
        return
    last = host.rstrip(".").rsplit(".", 1)[-1]
    if _NUMERIC_LABEL.fullmatch(last):
        raise TargetRefused(
            "encoding", "write an IPv4 address as four decimal numbers, like 127.0.0.1"
        )


def _is_control_path(path: str) -> bool:
    # Read the path as a server would: percent-decoded, dot segments and doubled slashes gone.
    decoded = path
    for _ in range(3):
        decoded = unquote(decoded)
    normal = posixpath.normpath(re.sub(r"[/\\]+", "/", "/" + decoded)).lower()
    return normal == _CONTROL_PREFIX or normal.startswith(_CONTROL_PREFIX + "/")


class CheckedBackend(httpcore.SyncBackend):
    """httpcore's network backend, connecting only to addresses the policy allows: the name
    is resolved here, every address checked, and the socket opened to a checked one."""

    def __init__(self, policy: TargetPolicy) -> None:
        self._policy = policy

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        failure: Exception | None = None
        for address in self._policy.addresses(host, port):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # addresses() never answers an empty list
        raise failure


def checked_transport(policy: TargetPolicy) -> httpx.HTTPTransport:
    """An httpx transport whose every connection goes through :class:`CheckedBackend`."""
    transport = httpx.HTTPTransport(trust_env=False)
    # httpx offers no public way to choose the network backend; its pool takes one.
    # No keep-alive: every attempt opens (so checks) a connection of its own.
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_keepalive_connections=0,
        network_backend=CheckedBackend(policy),
    )
    return transport
