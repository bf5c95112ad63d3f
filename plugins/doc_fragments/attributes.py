# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # What every module documents: the author, and the attributes. A module extends DOCUMENTATION (the descriptions),
    # then gives the support with CHECK_AND_DIFF, CHECK_ONLY, READ_ONLY or its own attributes; ACTIONGROUP_DOCKER or
    # NO_ACTION_GROUP says whether module_defaults' group applies.
    DOCUMENTATION = r"""
options: {}
author:
  - swarmops.ha contributors (!UNKNOWN)
attributes:
  check_mode:
    description: Can run in check mode and report whether it would change something, without changing it.
  diff_mode:
    description: Returns what changed (or would change, in check mode) as before and after, in diff mode.
"""

    ACTIONGROUP_DOCKER = r"""
options: {}
attributes:
  action_group:
    description: Takes its defaults from C(module_defaults) for the group C(group/swarmops.ha.docker), for example
      the connection options once for every module of the collection that talks to an engine.
    support: full
    membership:
      - swarmops.ha.docker
"""

    NO_ACTION_GROUP = r"""
options: {}
attributes:
  action_group:
    description: Takes defaults from C(module_defaults) for an action group.
    support: none
    membership: []
    details: Not in the group C(swarmops.ha.docker), whose members share the engine connection options.
"""

    # For modules that change something: both modes fully.
    CHECK_AND_DIFF = r"""
options: {}
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
"""

    # For modules that change something with nothing to show as a diff.
    CHECK_ONLY = r"""
options: {}
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

    # For modules that only read: nothing to change, nothing to show as a diff.
    READ_ONLY = r"""
options: {}
attributes:
  check_mode:
    support: full
    details: Only reads; it runs the same in check mode.
  diff_mode:
    support: N/A
    details: Only reads; there is no change to show.
"""
