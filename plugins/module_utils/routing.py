# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Routes from service labels, and the HAProxy configuration that serves them.

A service asks to be routed with labels under ROUTE_PREFIX (the successor of Docker Flow Proxy's com.df.*):

    swarmops.route.host=app.example   swarmops.route.path=/api   swarmops.route.port=8080
    swarmops.route.health=/healthz    swarmops.route.sticky=true swarmops.route.https_redirect=true
    swarmops.route.users=alice,bob    (HTTP basic authentication; only these users, from the proxy's userlist)

Everything here is pure: service inspect dicts in, routes or configuration text out, RouteError naming the
service and the label for anything that cannot be served.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError

ROUTE_PREFIX = "swarmops.route."
LABELS = ("host", "path", "port", "health", "sticky", "https_redirect", "users")
USERLIST = "swarmops_users"
USER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
HOST_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")
PATH_RE = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$")
TRUE, FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


class RouteError(SwarmopsError):
    """One or more routes cannot be served; the message lists each, naming service and label."""


@dataclass(frozen=True)
class Route:
    service: str
    port: int
    host: str | None = None
    path: str | None = None
    health: str | None = None
    sticky: bool = False
    https_redirect: bool = False
    users: tuple[str, ...] = ()

    @property
    def backend(self) -> str:
        return "be_" + re.sub(r"[^A-Za-z0-9_]", "_", self.service)

    @property
    def where(self) -> str:
        return f"{self.host or '*'}{self.path or '/'}"


def flag(service: str, key: str, value: str) -> bool:
    word = value.strip().lower()
    if word in TRUE or word in FALSE:
        return word in TRUE
    raise RouteError(f"service {service}: label {ROUTE_PREFIX}{key}={value!r} is not true or false")


def users_of(service: str, value: str | None, known: set[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    names = tuple(sorted({name.strip() for name in value.split(",") if name.strip()}))
    if not names or any(not USER_RE.match(name) for name in names):
        raise RouteError(f"service {service}: label {ROUTE_PREFIX}users={value!r} is not a comma-separated list of "
                         f"user names (example: alice,bob)")
    unknown = [name for name in names if known is not None and name not in known]
    if unknown:
        raise RouteError(f"service {service}: label {ROUTE_PREFIX}users names {', '.join(unknown)}, not a user of "
                         f"the proxy (its users: {', '.join(sorted(known or ())) or 'none'})")
    return names


def route_of(service: str, labels: dict, ports: set[int] | None = None,
             known_users: set[str] | None = None) -> Route | None:
    """The route a service's labels ask for; None without any label under the prefix.

    `ports` are the ports the service is known to listen on (published target ports, the image's EXPOSE);
    None when they cannot be known, and the port is then taken on trust. `known_users` are the proxy's users.
    """
    given = {key[len(ROUTE_PREFIX):]: str(value) for key, value in (labels or {}).items()
             if key.startswith(ROUTE_PREFIX)}
    if not given:
        return None
    unknown = sorted(set(given) - set(LABELS))
    if unknown:
        raise RouteError(f"service {service}: label {ROUTE_PREFIX}{unknown[0]} is not a route label (accepted: "
                         f"{', '.join(ROUTE_PREFIX + key for key in LABELS)})")
    host = given.get("host", "").strip().lower() or None
    path = given.get("path", "").strip() or None
    if host is None and path is None:
        raise RouteError(f"service {service}: a route needs {ROUTE_PREFIX}host or {ROUTE_PREFIX}path (or both)")
    if host is not None and not HOST_RE.match(host):
        raise RouteError(f"service {service}: label {ROUTE_PREFIX}host={host!r} is not a host name "
                         f"(example: app.example)")
    for key, value in (("path", path), ("health", given.get("health"))):
        if value is not None and not PATH_RE.match(value):
            raise RouteError(f"service {service}: label {ROUTE_PREFIX}{key}={value!r} is not a URL path "
                             f"(example: /api)")
    if path is not None and path != "/":
        path = path.rstrip("/")
    raw_port = given.get("port")
    if raw_port is None:
        raise RouteError(f"service {service}: label {ROUTE_PREFIX}port is missing (the port the tasks listen on)")
    if not raw_port.isdigit() or not 0 < int(raw_port) < 65536:
        raise RouteError(f"service {service}: label {ROUTE_PREFIX}port={raw_port!r} is not a port number (1-65535)")
    port = int(raw_port)
    if ports is not None and port not in ports:
        listed = ", ".join(str(p) for p in sorted(ports)) or "none"
        raise RouteError(f"service {service}: label {ROUTE_PREFIX}port={port} is not a port the service exposes "
                         f"(exposed: {listed})")
    return Route(service=service, port=port, host=host, path=path, health=given.get("health"),
                 sticky=flag(service, "sticky", given.get("sticky", "false")),
                 https_redirect=flag(service, "https_redirect", given.get("https_redirect", "false")),
                 users=users_of(service, given.get("users"), known_users))


def service_ports(service: dict, image_ports: dict[str, set[int]] | None = None) -> set[int] | None:
    """Ports a service listens on: its published target ports and its image's EXPOSE; None when neither is known."""
    published = {p["TargetPort"] for p in (service.get("Endpoint", {}).get("Spec") or
                                           service["Spec"].get("EndpointSpec") or {}).get("Ports") or []}
    image = service["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"].split("@")[0]
    exposed = (image_ports or {}).get(image)
    if exposed is None:
        return published or None
    return published | exposed


def routes_from(services: list[dict], image_ports: dict[str, set[int]] | None = None,
                https: bool = False, users: set[str] | None = None) -> list[Route]:
    """Every route the services ask for, in matching order; RouteError lists every problem found, not the first."""
    routes, problems = [], []
    for service in services:
        name = service["Spec"]["Name"]
        try:
            route = route_of(name, service["Spec"].get("Labels") or {}, service_ports(service, image_ports),
                             users if users is not None else set())
        except RouteError as exc:
            problems.append(str(exc))
            continue
        if route is None:
            continue
        if route.https_redirect and not https:
            problems.append(f"service {name}: label {ROUTE_PREFIX}https_redirect=true needs the proxy to serve "
                            f"HTTPS (give it a certificate)")
            continue
        routes.append(route)
    claimed: dict[tuple, str] = {}
    for route in routes:
        key = (route.host, route.path or "/")
        if key in claimed:
            problems.append(f"service {route.service}: {ROUTE_PREFIX}host/path {route.where} is already the route "
                            f"of service {claimed[key]}")
        else:
            claimed[key] = route.service
    if problems:
        raise RouteError("; ".join(problems))
    return sorted(routes, key=match_order)


def match_order(route: Route) -> tuple:
    """Host and path before host alone before path alone; longer paths first, so /api/v2 wins over /api."""
    return (route.host is None, route.path is None, -len(route.path or ""), route.host or "", route.path or "")


HEALTH_PORT = 8404
HEALTH_URI = "/swarmops-health"


def haproxy_config(routes: list[Route], slots: int = 10, certificate: str | None = None,
                   resolver: str = "127.0.0.11:53", dns_prefix: str = "tasks.", access_log: bool = False,
                   connect_timeout_ms: int = 500, metrics_port: int | None = None) -> str:
    """haproxy.cfg for the routes: one frontend on :80 (and :443 with a certificate), one backend per service whose
    servers are the service's tasks as the swarm's DNS lists them, re-resolved every second, so tasks that move
    or scale need no reload. With `metrics_port`, HAProxy's own Prometheus exporter answers /metrics there.

    A task whose machine dies answers nothing (no reset): the connect timeout, far below a client's, ends the
    attempt, the request goes to another task (redispatch on every retry), and the first failed connection takes
    the task out (observe layer4, on-error mark-down) until its check passes again. Connections to the tasks are
    kept and shared (http-reuse), so a keep-alive client costs no new connection to a task per request."""
    lines = [
        "# Made by swarmops.ha (routing role) from service labels; edits here are overwritten.",
        "global",
        "    master-worker",
        "    log stdout format raw local0",
        "    hard-stop-after 30s",
        # No nbthread: since 2.5 HAProxy runs one thread per CPU it may use, which is what a proxy node needs.
        "",
        "defaults",
        "    mode http",
    ]
    # Without the access log, only requests that went wrong (errors, retries, redispatches) are logged.
    lines += ["    log global", "    option httplog"] + ([] if access_log else ["    option dontlog-normal"])
    lines += [
        "    option http-keep-alive",
        "    http-reuse always",
        "    option redispatch 1",
        "    retries 3",
        # A request that reached a task that died under it is sent again to another (for safe methods: below).
        "    retry-on conn-failure empty-response junk-response 503",
        f"    timeout connect {connect_timeout_ms}ms",
        "    timeout client 30s",
        "    timeout server 30s",
        "    timeout http-keep-alive 30s",
        "    timeout check 1s",
        "    default-server init-addr none resolvers swarm check inter 1s fastinter 250ms fall 2 rise 1 "
        "observe layer4 error-limit 1 on-error mark-down",
        "",
        "resolvers swarm",
        f"    nameserver swarm {resolver}",
        "    resolve_retries 3",
        "    timeout resolve 1s",
        "    timeout retry 500ms",
        "    hold valid 1s",
        "    hold obsolete 1s",
        "    hold nx 1s",
        "    accepted_payload_size 8192",
        "",
        # keepalived asks this on each proxy node (its port published in host mode) whether the local proxy works.
        "frontend health",
        f"    bind :{HEALTH_PORT}",
        f"    monitor-uri {HEALTH_URI}",
        "",
        "frontend http",
        "    bind :80",
    ]
    if certificate:
        lines.append(f"    bind :443 ssl crt {certificate}")
    lines += ["    http-request disable-l7-retry unless METH_GET || METH_HEAD || METH_OPTIONS",
              "    http-request set-var(txn.host) req.hdr(host),field(1,:),lower"]
    for number, route in enumerate(routes, 1):
        acls, condition = route_acls(route, f"route{number}")
        lines += [f"    {acl}" for acl in acls]
        # The first route that matches owns the request, so a protected route's rules never touch another's.
        lines.append(f"    http-request set-var(txn.route) str(route{number}) if {condition} "
                     f"!{{ var(txn.route) -m found }}")
        mine = f"{{ var(txn.route) -m str route{number} }}"
        if route.https_redirect:
            lines.append(f"    http-request redirect scheme https code 301 if {mine} !{{ ssl_fc }}")
        if route.users:
            lines += [f'    http-request auth realm "{route.where}" if {mine} !{{ http_auth({USERLIST}) }}',
                      f"    http-request deny deny_status 403 if {mine} !{{ http_auth_user -m str "
                      f"{' '.join(route.users)} }}"]
        lines.append(f"    use_backend {route.backend} if {mine}")
    lines.append("    default_backend no_route")
    for route in routes:
        lines += ["", f"backend {route.backend}", "    balance roundrobin"]
        if route.health:
            lines.append(f"    option httpchk GET {route.health}")
        if route.sticky:
            # Template servers have no fixed names: the cookie is a hash of each task's address and this key.
            lines += ["    cookie SWARMOPS_ROUTE insert indirect nocache dynamic",
                      f"    dynamic-cookie-key {route.backend}"]
        lines.append(f"    server-template task 1-{slots} {dns_prefix}{route.service}:{route.port}")
    lines += ["", "backend no_route", "    http-request return status 404 content-type text/plain string "
              '"no route\\n"', ""]
    if metrics_port:
        # Not published: Prometheus reaches it on the proxy's overlay network (the monitoring role).
        lines += ["frontend metrics", f"    bind :{metrics_port}", "    option dontlog-normal",
                  "    http-request use-service prometheus-exporter if { path /metrics }",
                  "    http-request return status 404", ""]
    return "\n".join(lines)


def route_acls(route: Route, name: str) -> tuple[list[str], str]:
    """ACL lines for a route and the condition that uses them; lines of one name are alternatives (OR)."""
    acls = []
    if route.host:
        acls.append(f"acl {name}_host var(txn.host) -m str {route.host}")
    if route.path and route.path != "/":
        acls += [f"acl {name}_path path -m str {route.path}", f"acl {name}_path path -m beg {route.path}/"]
    names = sorted({acl.split()[1] for acl in acls}, key=lambda n: n.endswith("_path"))
    return acls, " ".join(names) or "TRUE"
