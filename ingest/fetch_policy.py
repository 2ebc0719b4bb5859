"""Where ingest may fetch from: public addresses, and whatever NEWSBOT_FETCH_ALLOW lists (an intranet CMS, the
tests' 127.0.0.1 servers).

A feed author chooses the links ingest follows, so without this a feed (or a redirect) could make newsbot fetch
a cloud metadata service or an admin page on the bot's own network and store it where subscribers can quote it.
The address is checked inside the HTTP client's network backend, on the address actually connected to, for every
connection (so every redirect hop): a lookup made separately beforehand could be answered differently at connect
time (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # the well-known prefix: IPv4 addresses reached over IPv6
SCHEMES = ("http", "https")


class FetchRefused(Exception):
    """The fetch policy refused a URL or an address; `reason` says why, for the admin."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_allow_entry(entry: str) -> str | IPNetwork:
    """One NEWSBOT_FETCH_ALLOW entry: an IP network (an address is a network of one), else a host name.

    Raises ValueError naming the entry and the expected form.
    """
    text = entry.strip().lower()
    try:
        return _network(text)
    except ValueError:
        pass
    try:
        host = text.rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        host = ""
    labels = host.split(".")
    # All digits (127.1, 10.0.0.256) is a mistyped address, not a name.
    if host and len(host) <= 253 and all(map(_HOST_LABEL.match, labels)) and not labels[-1].isdigit():
        return host
    raise ValueError(
        f"{entry!r} is not a host name, an IP address or a CIDR network "
        "(e.g. cms.internal, 10.0.0.5, 10.0.0.0/8, fd00::/8)"
    )


def _network(text: str) -> IPNetwork:
    network = ipaddress.ip_network(text.strip("[]"), strict=False)
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen == 128 and network[0].ipv4_mapped:
        return ipaddress.IPv4Network(network[0].ipv4_mapped)  # ::ffff:10.0.0.5 is 10.0.0.5
    return network


@dataclass(frozen=True)
class AllowList:
    """Hosts and networks that may be fetched although they are not public. A host name is trusted by name:
    whatever it resolves to may be fetched through it. An address allows that address only."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in entries:
            parsed = parse_allow_entry(entry)
            if isinstance(parsed, str):
                hosts.add(parsed)
            else:
                networks.append(parsed)
        return cls(frozenset(hosts), tuple(networks))

    def allows_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def allows_address(self, address: IPAddress) -> bool:
        address = _unmapped(address)
        return any(address.version == n.version and address in n for n in self.networks)


def _unmapped(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def not_public(address: IPAddress) -> str | None:
    """Why an address is not a public one (e.g. "loopback"), or None when it is."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return not_public(embedded)
        if address.teredo is not None:
            return "Teredo tunnel"
    for kind in ("unspecified", "loopback", "link_local", "multicast", "reserved", "private", "site_local"):
        if getattr(address, f"is_{kind}", False):
            return kind.replace("_", "-")
    if not address.is_global:
        return "not globally routable"
    return None


def check_address(host: str, address: IPAddress, allow: AllowList) -> None:
    """Raise FetchRefused unless the address is public or allowed."""
    kind = not_public(address)
    if kind is not None and not allow.allows_address(address):
        what = f"{address} is" if host.strip("[]") == str(address) else f"{host} resolves to {address},"
        raise FetchRefused(f"{what} not a public address ({kind}); NEWSBOT_FETCH_ALLOW can allow it")


def check_url(url: httpx.URL) -> None:
    """Only http(s) URLs with a host are fetched (no file:, gopher:, ...)."""
    if url.scheme not in SCHEMES:
        raise FetchRefused(f"{url.scheme or 'a relative'} URL is not fetched, only http(s)")
    if not url.host:
        raise FetchRefused("a URL without a host is not fetched")


class GuardedBackend(httpcore.NetworkBackend):
    """Resolves the host, refuses the addresses the policy refuses, and connects to a checked address itself,
    so the socket goes where the check looked. TLS SNI and the Host header keep the name (httpcore takes both
    from the URL, not from the address connected to)."""

    def __init__(self, allow: AllowList, inner: httpcore.NetworkBackend | None = None) -> None:
        self._allow = allow
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        if self._allow.allows_host(host):
            return self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        addresses = _resolve(host, port)
        refusal: FetchRefused | None = None
        failure: Exception | None = None
        for address in addresses:
            try:
                check_address(host, address, self._allow)
            except FetchRefused as exc:
                refusal = refusal or exc
                continue
            try:
                return self._inner.connect_tcp(str(address), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc  # try the host's next address, as socket.create_connection does
        if failure is not None:
            raise failure
        assert refusal is not None  # _resolve returns at least one address
        raise refusal

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise FetchRefused("unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise httpcore.ConnectError(f"cannot resolve {host} ({exc})") from None
    addresses: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise httpcore.ConnectError(f"cannot resolve {host}")
    return addresses


class GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport with the guarded network backend, and no proxy (a proxy would connect for us,
    unchecked: clients using this must also pass trust_env=False)."""

    def __init__(self, allow: AllowList, limits: httpx.Limits | None = None) -> None:
        limits = limits or httpx.Limits()
        super().__init__(trust_env=False, limits=limits)
        # httpx 0.28 takes no network backend (encode/httpx#3749 adds one); this is the pool it builds without a
        # proxy, with the backend added.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(allow),
        )


def refuse_unsupported_scheme(request: httpx.Request) -> None:
    """An httpx request hook: it runs for every redirect hop, so a 302 to file:///etc/passwd is refused."""
    check_url(request.url)


def guarded_client(allow: AllowList, timeout_s: float, user_agent: str) -> httpx.Client:
    return httpx.Client(
        transport=GuardedTransport(allow),
        trust_env=False,
        timeout=httpx.Timeout(timeout_s),
        follow_redirects=True,
        headers={"User-Agent": user_agent},
        event_hooks={"request": [refuse_unsupported_scheme]},
    )
