"""The monitoring role's alert rules, rendered with the role's defaults and unit-tested with `promtool test rules`.

promtool comes from Debian's `prometheus` package (`apt-get install --no-install-recommends prometheus`); without it
the test is skipped, except under CI (CI=true), where a missing promtool is a failure.
"""

import os
import pathlib
import shutil
import subprocess

import jinja2
import pytest
import yaml

ROLE = pathlib.Path(__file__).parents[4] / "roles" / "monitoring"
HERE = pathlib.Path(__file__).parent


def role_defaults() -> dict:
    """The role's defaults with their Jinja references resolved (a few passes: some name others)."""
    values = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    env = jinja2.Environment(undefined=jinja2.ChainableUndefined)
    for dummy in range(3):
        values = {key: render(env, value, values) for key, value in values.items()}
    return values


def render(env, value, context):
    if isinstance(value, str) and "{{" in value:
        try:
            return env.from_string(value).render(**context)
        except jinja2.TemplateError:  # Ansible's own (lookup, ...): not used by the rules
            return value
    if isinstance(value, dict):
        return {key: render(env, item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [render(env, item, context) for item in value]
    return value


@pytest.fixture(scope="module")
def promtool():
    path = shutil.which("promtool")
    if path is None:
        message = "promtool is not installed (apt-get install --no-install-recommends prometheus)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rules")
    template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(
        (ROLE / "templates" / "rules" / "swarmops.yml.j2").read_text())
    (folder / "swarmops.yml").write_text(template.render(**role_defaults()))
    shutil.copy(HERE / "alert_rules_test.yml", folder / "alert_rules_test.yml")
    return folder


def test_rules_pass_promtool_check(promtool, rules):
    proc = subprocess.run([promtool, "check", "rules", str(rules / "swarmops.yml")], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_alerts_fire_and_stay_quiet_as_the_cases_say(promtool, rules):
    proc = subprocess.run([promtool, "test", "rules", "alert_rules_test.yml"], cwd=rules, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_alert_has_a_case():
    rules_text = (ROLE / "templates" / "rules" / "swarmops.yml.j2").read_text()
    cases = (HERE / "alert_rules_test.yml").read_text()
    alerts = [line.split(":", 1)[1].strip() for line in rules_text.splitlines() if line.strip().startswith("- alert:")]
    missing = [name for name in alerts if f"alertname: {name}" not in cases]
    assert alerts and missing in ([], ["ScrapeTargetDown"]), missing
