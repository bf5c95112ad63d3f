import pytest

from ansible_collections.swarmops.ha.plugins.module_utils import services
from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError

SECOND = 1_000_000_000

# What an engine holds for: docker service create --name web --replicas 2 --env A=1 --limit-memory 256M
#   --publish 8080:80 --mount type=volume,source=data,target=/data --update-delay 10s nginx:1.27
ENGINE_SPEC = {
    "Name": "web",
    "Labels": {},
    "TaskTemplate": {
        "ContainerSpec": {
            "Image": "nginx:1.27@sha256:" + "ab" * 32,
            "Env": ["A=1"],
            "Mounts": [{"Type": "volume", "Source": "data", "Target": "/data"}],
            "Isolation": "default",
        },
        "Resources": {"Limits": {"MemoryBytes": 256 * 1024 ** 2}, "Reservations": {}},
        "RestartPolicy": {"Condition": "any", "Delay": 5 * SECOND, "MaxAttempts": 0},
        "Placement": {},
        "ForceUpdate": 0,
        "Runtime": "container",
    },
    "Mode": {"Replicated": {"Replicas": 2}},
    "UpdateConfig": {"Parallelism": 1, "Delay": 10 * SECOND, "FailureAction": "pause", "Monitor": 5 * SECOND,
                     "MaxFailureRatio": 0, "Order": "stop-first"},
    "EndpointSpec": {"Mode": "vip", "Ports": [{"Protocol": "tcp", "TargetPort": 80, "PublishedPort": 8080,
                                               "PublishMode": "ingress"}]},
}


def params(**given):
    return {option: given.get(option) for option in services.SERVICE_OPTIONS} | given


def test_the_options_the_engine_already_holds_compare_equal():
    wanted = services.wanted_values(params(
        image="nginx:1.27", replicas=2, env={"A": 1}, limit_memory="256M",
        publish=[{"published_port": 8080, "target_port": 80, "protocol": "tcp", "mode": "ingress"}],
        mounts=[{"type": "volume", "source": "data", "target": "/data"}],
        update_config={"delay": "10s", "parallelism": 1}))
    assert services.compare(ENGINE_SPEC, wanted) == ({}, {})


def test_a_changed_option_shows_before_and_after_and_nothing_else():
    wanted = services.wanted_values(params(image="nginx:1.27", replicas=3, limit_memory="512M"))
    before, after = services.compare(ENGINE_SPEC, wanted)
    assert before == {"mode": {"Replicated": {"Replicas": 2}}, "limit_memory": 256 * 1024 ** 2}
    assert after == {"mode": {"Replicated": {"Replicas": 3}}, "limit_memory": 512 * 1024 ** 2}


def test_apply_writes_the_wanted_options_and_keeps_the_rest():
    wanted = services.wanted_values(params(replicas=3, reserve_cpu="0.25", update_config={"order": "start-first"},
                                           env={"B": "2"}))
    updated = services.apply(ENGINE_SPEC, wanted)
    assert updated["Mode"] == {"Replicated": {"Replicas": 3}}
    assert updated["TaskTemplate"]["Resources"] == {"Limits": {"MemoryBytes": 256 * 1024 ** 2},
                                                    "Reservations": {"NanoCPUs": 250_000_000}}
    assert updated["UpdateConfig"] == {**ENGINE_SPEC["UpdateConfig"], "Order": "start-first"}
    assert updated["TaskTemplate"]["ContainerSpec"]["Env"] == ["B=2"]
    assert updated["TaskTemplate"]["ContainerSpec"]["Image"] == ENGINE_SPEC["TaskTemplate"]["ContainerSpec"]["Image"]
    assert updated["EndpointSpec"] == ENGINE_SPEC["EndpointSpec"]
    assert ENGINE_SPEC["Mode"] == {"Replicated": {"Replicas": 2}}, "apply must not edit the spec it was given"
    assert services.compare(updated, wanted) == ({}, {})


def test_a_new_service_gets_every_given_option_in_the_api_shape():
    wanted = services.wanted_values(params(
        image="registry:2", mode="global", endpoint_mode="dnsrr", networks=["backend", "backend"],
        publish=[{"published_port": 5000, "target_port": 5000, "mode": "host"}],
        constraints=["node.role==manager"], placement_preferences=["node.labels.zone"],
        healthcheck={"test": "wget -q -O- localhost:5000/v2/", "interval": "5s", "retries": 3},
        secrets=[{"name": "htpasswd", "mode": "0400"}], command=["registry"], args=["serve", "/etc/config.yml"]))
    spec = services.apply({"Name": "registry"}, wanted)
    container = spec["TaskTemplate"]["ContainerSpec"]
    assert spec["Mode"] == {"Global": {}}
    assert spec["EndpointSpec"] == {"Mode": "dnsrr", "Ports": [{"TargetPort": 5000, "PublishedPort": 5000,
                                                                "Protocol": "tcp", "PublishMode": "host"}]}
    assert spec["TaskTemplate"]["Networks"] == [{"Target": "backend"}]
    assert spec["TaskTemplate"]["Placement"] == {"Constraints": ["node.role==manager"],
                                                 "Preferences": [{"Spread": {"SpreadDescriptor": "node.labels.zone"}}]}
    assert container["HealthCheck"] == {"Test": ["CMD-SHELL", "wget -q -O- localhost:5000/v2/"],
                                        "Interval": 5 * SECOND, "Retries": 3}
    assert container["Secrets"] == [{"SecretName": "htpasswd", "File": {"Name": "htpasswd", "UID": "0", "GID": "0",
                                                                        "Mode": 0o400}}]
    assert (container["Command"], container["Args"]) == (["registry"], ["serve", "/etc/config.yml"])
    assert services.compare(spec, wanted) == ({}, {})


def test_partial_policies_compare_only_the_keys_given():
    wanted = services.wanted_values(params(update_config={"parallelism": 1}, restart_policy={"condition": "any"}))
    assert services.compare(ENGINE_SPEC, wanted) == ({}, {})
    wanted = services.wanted_values(params(restart_policy={"condition": "on-failure", "max_attempts": 3}))
    assert services.compare(ENGINE_SPEC, wanted) == (
        {"restart_policy": {"Condition": "any", "MaxAttempts": 0}},
        {"restart_policy": {"Condition": "on-failure", "MaxAttempts": 3}})


def test_removing_every_port_and_label_is_a_change_to_empty():
    wanted = services.wanted_values(params(publish=[], labels={}))
    assert services.compare(ENGINE_SPEC, wanted) == (
        {"publish": [{"target_port": 80, "published_port": 8080, "protocol": "tcp", "mode": "ingress"}]},
        {"publish": []})


def test_options_left_out_are_not_managed():
    assert services.wanted_values(params()) == {}
    assert services.compare(ENGINE_SPEC, {}) == ({}, {})


@pytest.mark.parametrize("given, message", [
    ({"limit_cpu": "abc"}, "limit_cpu: 'abc'"),
    ({"limit_memory": "12XB"}, "limit_memory: '12XB'"),
    ({"limit_memory": "256M", "reserve_memory": "1g"}, "reserve_memory"),
    ({"mode": "global", "replicas": 2}, "replicas: a global service"),
    ({"replicas": -1}, "replicas: -1"),
    ({"update_config": {"delay": "soon"}}, "update_config.delay: 'soon' is not a duration"),
    ({"healthcheck": {"test": ["echo", "hi"]}}, "healthcheck.test"),
    ({"secrets": [{"name": "s", "mode": "0999"}]}, "secrets[].mode: '0999' is not an octal file mode"),
    ({"mounts": [{"type": "bind", "source": "relative/dir", "target": "/data"}]}, "relative/dir"),
    ({"mounts": [{"type": "tmpfs", "source": "x", "target": "/scratch"}]}, "tmpfs"),
    ({"stop_grace_period": "a while"}, "stop_grace_period: 'a while' is not a duration"),
])
def test_bad_input_names_the_option(given, message):
    with pytest.raises(SwarmopsError, match=message.replace("[", r"\[").replace("]", r"\]")):
        services.wanted_values(params(**given))


@pytest.mark.parametrize("mode, value", [(0o444, 0o444), ("0444", 0o444), ("400", 0o400), ("0o600", 0o600)])
def test_file_modes_are_octal_whether_quoted_or_not(mode, value):
    assert services.octal_mode("secrets[].mode")(mode) == value


def test_image_digest_pinned_by_the_engine_is_not_a_change():
    assert services.strip_digest("nginx:1.27@sha256:" + "0" * 64) == "nginx:1.27"
    assert services.strip_digest(None) == ""


def task(state="running", desired="running", template=None):
    return {"ID": "t", "DesiredState": desired, "Status": {"State": state},
            "Spec": template if template is not None else ENGINE_SPEC["TaskTemplate"]}


@pytest.mark.parametrize("tasks, update, expected", [
    ([task(), task()], None, True),
    ([task(), task(), task("shutdown", "shutdown", {"old": 1})], {"State": "completed"}, True),
    ([task(), task("preparing")], None, False),
    ([task()], None, False),
    ([task(), task(template={"old": 1})], None, False),
    ([task(), task()], {"State": "updating"}, False),
    ([task(), task()], {"State": "rollback_completed"}, True),
])
def test_converged_means_every_wanted_task_of_the_current_spec_runs(tasks, update, expected):
    service = {"Spec": ENGINE_SPEC, **({"UpdateStatus": update} if update else {})}
    assert services.converged(service, tasks) is expected


WORKER = {"ID": "n4", "Spec": {"Role": "worker", "Labels": {"zone": "a"}},
          "Description": {"Hostname": "node4", "Platform": {"OS": "linux", "Architecture": "x86_64"},
                          "Engine": {"Labels": {"disk": "ssd"}}}}


@pytest.mark.parametrize("constraint, holds", [
    ("node.role==worker", True), ("node.role == manager", False), ("node.role!=manager", True),
    ("node.hostname==node4", True), ("node.id==n4", True), ("node.platform.os==Linux", True),
    ("node.labels.zone==a", True), ("node.labels.zone!=a", False), ("node.labels.rack!=b", True),
    ("node.labels.rack==b", False), ("engine.labels.disk==ssd", True), ("node.ip==192.0.2.1", False),
    ("nonsense", False),
])
def test_placement_constraints_are_matched_as_the_swarm_matches_them(constraint, holds):
    assert services.node_satisfies(WORKER, constraint) is holds


def test_a_task_kept_after_a_placement_change_its_node_meets_counts_as_current():
    template = {**ENGINE_SPEC["TaskTemplate"], "Placement": {"Constraints": ["node.role==worker"]}}
    service = {"Spec": {**ENGINE_SPEC, "TaskTemplate": template, "Mode": {"Replicated": {"Replicas": 1}}}}
    kept = {**task(), "NodeID": "n4"}
    assert services.converged(service, [kept], {"n4": WORKER}) is True
    moved = {**WORKER, "Spec": {"Role": "manager"}}
    assert services.converged(service, [kept], {"n4": moved}) is False
    changed = {**task(template={**ENGINE_SPEC["TaskTemplate"], "ForceUpdate": 9}), "NodeID": "n4"}
    assert services.converged(service, [changed], {"n4": WORKER}) is False


def test_a_task_made_from_the_template_matches_it_without_the_defaults_the_engine_leaves_out():
    template = {"ContainerSpec": {"Image": "registry:2"}, "Placement": {}, "ForceUpdate": 0, "Runtime": "container",
                "Resources": {}}
    assert services.same_template({"ContainerSpec": {"Image": "registry:2"}, "Placement": {}, "ForceUpdate": 0},
                                  template)
    assert not services.same_template({"ContainerSpec": {"Image": "registry:2"}, "ForceUpdate": 1}, template)


def test_a_global_service_converges_when_every_live_task_runs():
    service = {"Spec": {**ENGINE_SPEC, "Mode": {"Global": {}}}}
    assert services.converged(service, [task(), task(), task()]) is True
    assert services.converged(service, [task(), task("starting")]) is False


def test_a_global_service_is_not_converged_while_a_node_it_should_run_on_has_no_running_task():
    service = {"Spec": {**ENGINE_SPEC, "Mode": {"Global": {}},
                        "TaskTemplate": {**ENGINE_SPEC["TaskTemplate"], "Placement": {
                            "Constraints": ["node.role==manager"]}}}}

    def node(ident, role="manager", state="ready", availability="active"):
        return {"ID": ident, "Status": {"State": state}, "Spec": {"Role": role, "Availability": availability}}
    nodes = {n["ID"]: n for n in (node("a"), node("b"), node("c", role="worker"), node("d", state="down"),
                                  node("e", availability="drain"))}
    template = service["Spec"]["TaskTemplate"]
    assert services.converged(service, [task(template=template)], nodes) is False  # b's failed, not yet replaced
    assert services.converged(service, [task(template=template), task(template=template)], nodes) is True


def test_the_engines_default_stop_grace_period_is_ten_seconds_and_a_shorter_one_is_a_change():
    assert services.compare(ENGINE_SPEC, services.wanted_values(params(stop_grace_period="10s"))) == ({}, {})
    wanted = services.wanted_values(params(stop_grace_period=1, stop_signal="SIGKILL"))
    assert services.compare(ENGINE_SPEC, wanted) == (
        {"stop_grace_period": 10 * SECOND, "stop_signal": ""}, {"stop_grace_period": SECOND, "stop_signal": "SIGKILL"})
    container = services.apply(ENGINE_SPEC, wanted)["TaskTemplate"]["ContainerSpec"]
    assert (container["StopGracePeriod"], container["StopSignal"]) == (SECOND, "SIGKILL")


def test_a_refused_registry_login_names_the_registry_and_the_user_never_the_password():
    import docker.errors

    class Engine:
        def login(self, username, password, registry, reauth):
            self.asked = (username, registry)
            raise docker.errors.APIError("500 Server Error", explanation="unauthorized: incorrect username or password")

    engine = Engine()
    client = type("Client", (), {"api": engine})
    with pytest.raises(SwarmopsError) as raised:
        services.ServiceAPI(client).login({"username": "ci", "password": "s3cret-pass", "registry": None},
                                          "registry.example:5000/app:1")
    assert engine.asked == ("ci", "registry.example:5000")
    assert str(raised.value) == ("registry_auth: registry.example:5000 refused the login of 'ci': "
                                 "unauthorized: incorrect username or password")
