#!/usr/bin/python
# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: certificate
short_description: A TLS server certificate from the collection's CA, or the user's own, checked
version_added: 0.1.0
description:
  - Keeps C(<name>.crt) and C(<name>.key) in O(path) on the host that runs it (the controller), for the registry
    and the routing proxy to serve TLS with.
  - Without O(certificate), a CA kept in O(path) (C(ca.crt), C(ca.key), made when missing) signs a certificate for
    O(subject_alt_names). A new one is issued when there is none, when it does not cover the names, when it
    expires within O(renew_days), or when the CA did not sign it; otherwise nothing changes.
  - With O(certificate) and O(private_key) (the user's own, from a vault), they are checked (the key matches, the
    names are covered, not expiring, signed by O(ca_certificate) when given) and written to O(path); any problem
    fails the task before anything is written.
extends_documentation_fragment:
  - swarmops.ha.attributes
  - swarmops.ha.attributes.no_action_group
  - swarmops.ha.attributes.check_and_diff
options:
  path:
    description: Directory for the CA and the certificates, on the controller. Keep C(ca.key) as you keep the
      machine store.
    type: path
    required: true
  name:
    description: The certificate's file name, without extension.
    type: str
    required: true
  subject_alt_names:
    description: Host names and IP addresses the certificate must be valid for (required for O(purpose=server)).
    type: list
    elements: str
  purpose:
    description:
      - V(server) for a server certificate; V(client) for a client certificate (no names), such as the one the
        controller presents to engines that O(purpose=server) certificates serve (node_bootstrap's engine TLS).
    type: str
    choices: [server, client]
    default: server
  valid_days:
    description: Lifetime of an issued certificate.
    type: int
    default: 397
  renew_days:
    description: An issued certificate is replaced, and a given one refused, when it expires within this many days.
    type: int
    default: 30
  ca_valid_days:
    description: Lifetime of a CA made here.
    type: int
    default: 3650
  organization:
    description: Organization name in the CA's and the certificates' subjects.
    type: str
    default: swarmops
  certificate:
    description: The user's own certificate (PEM). Requires O(private_key).
    type: str
  private_key:
    description: The key of O(certificate) (PEM, unencrypted), from a vault.
    type: str
  ca_certificate:
    description: The CA (PEM) that signed O(certificate); nodes are given it to trust.
    type: str
notes:
  - Check mode reports whether a certificate would be issued or written, and why; diff shows names, expiry and
    issuer, never a key.
"""

EXAMPLES = r"""
- name: The registry's certificate, from the collection's CA
  swarmops.ha.certificate:
    path: "{{ swarmops_pki_dir }}"
    name: registry
    subject_alt_names: [localhost, 127.0.0.1]
  delegate_to: localhost
  run_once: true

- name: The controller's client certificate for engines that serve TLS with the collection's certificates
  swarmops.ha.certificate:
    path: "{{ swarmops_pki_dir }}"
    name: engine-client
    purpose: client
  delegate_to: localhost
  run_once: true

- name: The proxy's certificate, the user's own
  swarmops.ha.certificate:
    path: "{{ swarmops_pki_dir }}"
    name: routing
    subject_alt_names: [app.example]
    certificate: "{{ vault_routing_certificate }}"
    private_key: "{{ vault_routing_private_key }}"
    ca_certificate: "{{ vault_routing_ca }}"
"""

RETURN = r"""
certificate_path:
  description: The certificate (PEM).
  returned: success
  type: str
private_key_path:
  description: Its key (PEM, mode 0600).
  returned: success
  type: str
ca_certificate_path:
  description: The CA certificate clients trust; empty when there is none (your own certificate given without
    O(ca_certificate), for a CA the nodes already trust).
  returned: success
  type: str
reason:
  description: Why the certificate was issued or written; empty when nothing changed.
  returned: success
  type: str
  sample: the certificate expires 2027-01-02, within renew_days (30)
certificate:
  description: The current (after a change, the new) certificate's names, expiry and issuer.
  returned: success
  type: dict
  sample: {"subject_alt_names": ["127.0.0.1", "localhost"], "not_after": "2027-12-30T10:00:00+00:00",
           "issuer": "O=swarmops CA"}
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.ha.plugins.module_utils import pki
from ansible_collections.swarmops.ha.plugins.module_utils.errors import SwarmopsError, module_errors


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            name=dict(type="str", required=True),
            subject_alt_names=dict(type="list", elements="str"),
            purpose=dict(type="str", choices=["server", "client"], default="server"),
            valid_days=dict(type="int", default=397),
            renew_days=dict(type="int", default=30),
            ca_valid_days=dict(type="int", default=3650),
            organization=dict(type="str", default="swarmops"),
            certificate=dict(type="str"),
            private_key=dict(type="str", no_log=True),
            ca_certificate=dict(type="str"),
        ),
        required_together=[("certificate", "private_key")],
        required_if=[("purpose", "server", ["subject_alt_names"])],
        required_by={"ca_certificate": "certificate"},
        supports_check_mode=True,
    )
    params = module.params
    with module_errors(module, "certificate"):
        if "/" in params["name"] or params["name"] in ("", ".", "..", "ca"):
            raise SwarmopsError(f"name: {params['name']!r} is not accepted: a file name without '/', not 'ca'")
        for option in ("valid_days", "ca_valid_days"):
            if params[option] < 1:
                raise SwarmopsError(f"{option}: {params[option]} is not accepted: at least 1")
        if not 0 <= params["renew_days"] < params["valid_days"]:
            raise SwarmopsError(f"renew_days: {params['renew_days']} is not accepted: 0 or more and less than "
                                f"valid_days ({params['valid_days']})")
        client = params["purpose"] == "client"
        hosts, ips = ([], []) if client else pki.split_names(params["subject_alt_names"])
        names = sorted(set(hosts + ips))
        given = None
        if params["certificate"]:
            given = {key: params[key].encode() for key in ("certificate", "private_key", "ca_certificate")
                     if params[key]}
        found = pki.plan(params["path"], params["name"], names, params["renew_days"], given, client)
        after = found.get("after")
        if found["reason"] and not module.check_mode:
            after = pki.ensure(params["path"], params["name"], names, params["valid_days"], params["ca_valid_days"],
                               params["organization"], given, client)
        where = pki.paths(params["path"], params["name"])
        before = found.get("before") or {}
        if not found["reason"]:
            after = before
        elif after is None:  # check mode: what is known of the certificate to come
            after = {"subject_alt_names": names}
        module.exit_json(changed=bool(found["reason"]), reason=found["reason"] or "", certificate=after,
                         diff={"before": before, "after": after},
                         certificate_path=where["certificate"], private_key_path=where["private_key"],
                         ca_certificate_path=where["ca_certificate"] if os.path.exists(where["ca_certificate"]) else "")


if __name__ == "__main__":
    main()
