# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # What swarm_secret and swarm_config share: a value kept as versions and rolled out to the services.
    DOCUMENTATION = r"""
options:
  data_is_base64:
    description: Whether O(data) is base64 (binary values such as keystores).
    type: bool
    default: false
  users:
    description:
      - Instead of O(data), the value is a password file made from these users, each password hashed with bcrypt.
        An unchanged list is recognised by the fingerprint of the users and passwords, so the file is remade (with
        new salts) only when they change.
      - Every password must be at least O(password_min_length) long; no password is ever shown.
    type: list
    elements: dict
    suboptions:
      name:
        description: The user name; letters, digits, C(_), C(.), C(@), C(-).
        type: str
        required: true
      password:
        description: The password, from a vault.
        type: str
        required: true
      groups:
        description: Groups of the user (V(haproxy) format), for per-group authorization; a single C(role) such as
          the registry's V(push) or V(pull) is a group too.
        type: list
        elements: str
        default: []
        aliases: [role]
  users_format:
    description: V(htpasswd) lines C(name:hash) (the registry's C(htpasswd) auth); V(haproxy) a C(userlist
      swarmops_users) section with its groups, for HAProxy's C(http_auth) and C(http_auth_group).
    type: str
    choices: [htpasswd, haproxy]
    default: htpasswd
  password_min_length:
    description: Shortest password accepted in O(users).
    type: int
    default: 12
  bcrypt_cost:
    description: bcrypt cost (4-16) of the hashes in O(users). Each request checks a hash, so a proxy that checks
      every request wants a lower cost than a login service.
    type: int
    default: 10
  labels:
    description: Labels of a new version; versions are immutable, so labels of existing ones stay.
    type: dict
    default: {}
  state:
    description: V(present) makes the value current; V(absent) removes every version, refused while a service
      uses one.
    type: str
    choices: [present, absent]
    default: present
  wait_timeout:
    description: Seconds to wait for each moved service's tasks to run on the new version.
    type: int
    default: 120
notes:
  - Check mode reports the version it would make and the services it would move; diff shows version names and
    services, never data.
"""
