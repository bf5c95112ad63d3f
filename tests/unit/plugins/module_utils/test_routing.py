import pytest

from ansible_collections.swarmops.ha.plugins.module_utils import routing
from ansible_collections.swarmops.ha.plugins.module_utils.routing import Route, RouteError


def service(name, image="app:1", ports=(), **labels):
    return {"Spec": {"Name": name, "Labels": {f"swarmops.route.{k}": v for k, v in labels.items()},
                     "TaskTemplate": {"ContainerSpec": {"Image": image + "@sha256:" + "0" * 64}},
                     "EndpointSpec": {"Ports": [{"TargetPort": p, "PublishedPort": p} for p in ports]}}}


def test_labels_become_a_route_with_normal_host_and_path():
    route = routing.route_of("web", {"swarmops.route.host": "App.Example", "swarmops.route.path": "/api/",
                                     "swarmops.route.port": "8080", "swarmops.route.sticky": "yes",
                                     "com.example.other": "ignored"})
    assert route == Route(service="web", port=8080, host="app.example", path="/api", sticky=True)


def test_a_service_without_route_labels_is_not_routed():
    assert routing.route_of("db", {"com.example.team": "data"}) is None


@pytest.mark.parametrize("labels, message", [
    ({"port": "80"}, "service web: a route needs swarmops.route.host or swarmops.route.path"),
    ({"host": "a.example", "port": "80", "weight": "2"},
     "service web: label swarmops.route.weight is not a route label (accepted: swarmops.route.host"),
    ({"host": "a.example"}, "service web: label swarmops.route.port is missing"),
    ({"host": "a.example", "port": "http"}, "service web: label swarmops.route.port='http' is not a port number"),
    ({"host": "a.example", "port": "70000"}, "label swarmops.route.port='70000' is not a port number"),
    ({"host": "a_b..example", "port": "80"}, "label swarmops.route.host='a_b..example' is not a host name"),
    ({"path": "api", "port": "80"}, "label swarmops.route.path='api' is not a URL path"),
    ({"path": "/api", "port": "80", "sticky": "maybe"}, "label swarmops.route.sticky='maybe' is not true or false"),
])
def test_bad_labels_name_the_service_and_the_label(labels, message):
    with pytest.raises(RouteError, match=message.replace("(", r"\(")):
        routing.route_of("web", {f"swarmops.route.{k}": v for k, v in labels.items()})


def test_a_port_the_service_does_not_expose_is_refused_when_its_ports_are_known():
    with pytest.raises(RouteError, match=r"swarmops.route.port=9000 is not a port the service exposes \(exposed: 80, "
                                         r"8080\)"):
        routing.routes_from([service("web", ports=[80], host="a.example", port="9000")], {"app:1": {8080}})
    assert routing.routes_from([service("web", host="a.example", port="8080")], {"app:1": {8080}})
    # neither published nor an image whose EXPOSE is known: taken on trust
    assert routing.routes_from([service("web", host="a.example", port="9000")], {})


def test_two_services_claiming_one_host_and_path_are_both_named_and_every_problem_is_listed():
    with pytest.raises(RouteError) as raised:
        routing.routes_from([service("blue", host="a.example", path="/", port="80"),
                             service("green", host="a.example", port="80"),
                             service("bad", port="80")])
    message = str(raised.value)
    assert "service green: swarmops.route.host/path a.example/ is already the route of service blue" in message
    assert "service bad: a route needs swarmops.route.host or swarmops.route.path" in message


def test_https_redirect_needs_a_certificate():
    labels = dict(host="a.example", port="80", https_redirect="true")
    with pytest.raises(RouteError, match="https_redirect=true needs the proxy to serve HTTPS"):
        routing.routes_from([service("web", **labels)])
    assert routing.routes_from([service("web", **labels)], https=True)[0].https_redirect


def test_routes_match_the_most_specific_first():
    routes = routing.routes_from([
        service("root", path="/", port="80"), service("api", path="/api", port="80"),
        service("v2", path="/api/v2", port="80"), service("site", host="a.example", port="80"),
        service("site-api", host="a.example", path="/api", port="80")])
    assert [r.service for r in routes] == ["site-api", "site", "v2", "api", "root"]


def test_haproxy_config_routes_by_host_and_path_to_the_tasks_dns_names():
    routes = routing.routes_from([service("web", host="a.example", port="8080", health="/healthz", sticky="true"),
                                  service("api", path="/api", port="9000")])
    config = routing.haproxy_config(routes, slots=5)
    assert ("    acl route1_host var(txn.host) -m str a.example\n"
            "    http-request set-var(txn.route) str(route1) if route1_host !{ var(txn.route) -m found }\n"
            "    use_backend be_web if { var(txn.route) -m str route1 }\n") in config
    assert ("    acl route2_path path -m str /api\n    acl route2_path path -m beg /api/\n"
            "    http-request set-var(txn.route) str(route2) if route2_path !{ var(txn.route) -m found }\n"
            "    use_backend be_api if { var(txn.route) -m str route2 }\n") in config
    assert ("backend be_web\n    balance roundrobin\n    option httpchk GET /healthz\n"
            "    cookie SWARMOPS_ROUTE insert indirect nocache dynamic\n    dynamic-cookie-key be_web\n") in config
    assert "server-template task 1-5 tasks.web:8080\n" in config
    assert "server-template task 1-5 tasks.api:9000\n" in config
    assert "bind :443" not in config and "master-worker" in config


def test_haproxy_config_with_a_certificate_serves_https_and_redirects_when_asked():
    routes = routing.routes_from([service("web", host="a.example", path="/app", port="80", https_redirect="on")],
                                 https=True)
    config = routing.haproxy_config(routes, certificate="/run/secrets/site.pem")
    assert "    bind :443 ssl crt /run/secrets/site.pem\n" in config
    assert ("http-request redirect scheme https code 301 if { var(txn.route) -m str route1 } !{ ssl_fc }\n"
            "    use_backend be_web if { var(txn.route) -m str route1 }\n") in config


def test_a_protected_route_asks_for_credentials_then_checks_its_list_and_leaves_other_routes_alone():
    routes = routing.routes_from([service("admin", host="a.example", path="/admin", port="80", users="bob, alice"),
                                  service("site", host="a.example", port="80")], users={"alice", "bob", "carol"})
    assert routes[0].users == ("alice", "bob") and routes[1].users == ()
    config = routing.haproxy_config(routes)
    mine = "{ var(txn.route) -m str route1 }"
    assert (f'    http-request auth realm "a.example/admin" if {mine} !{{ http_auth(swarmops_users) }}\n'
            f"    http-request deny deny_status 403 if {mine} !{{ http_auth_user -m str alice bob }}\n"
            f"    use_backend be_admin if {mine}\n") in config
    assert config.count("http-request auth") == 1 and config.count("deny_status 403") == 1


@pytest.mark.parametrize("value, message", [
    ("carol", "label swarmops.route.users names carol, not a user of the proxy \\(its users: alice\\)"),
    ("alice;rm", "label swarmops.route.users='alice;rm' is not a comma-separated list of user names"),
    (" , ", "label swarmops.route.users=' , ' is not a comma-separated list"),
])
def test_route_users_must_be_names_the_proxy_knows(value, message):
    with pytest.raises(RouteError, match=message):
        routing.routes_from([service("admin", host="a.example", port="80", users=value)], users={"alice"})


def test_a_service_name_with_dashes_makes_a_valid_backend_name():
    route = routing.route_of("my-app.v2", {"swarmops.route.host": "a.example", "swarmops.route.port": "80"})
    assert route.backend == "be_my_app_v2"


def test_a_dead_task_is_retried_elsewhere_and_taken_out_before_a_client_times_out():
    config = routing.haproxy_config([Route(service="web", port=8080, host="web.example")])
    for line in ("option redispatch 1", "retries 3", "retry-on conn-failure empty-response junk-response 503",
                 "timeout connect 500ms", "http-reuse always", "hold nx 1s",
                 "http-request disable-l7-retry unless METH_GET || METH_HEAD || METH_OPTIONS"):
        assert f"    {line}\n" in config
    assert "observe layer4 error-limit 1 on-error mark-down" in config


def test_the_health_frontend_answers_for_keepalived_and_the_access_log_is_off_unless_asked():
    config = routing.haproxy_config([])
    assert "frontend health\n    bind :8404\n    monitor-uri /swarmops-health\n" in config
    assert "option dontlog-normal" in config
    assert "option dontlog-normal" not in routing.haproxy_config([], access_log=True)
