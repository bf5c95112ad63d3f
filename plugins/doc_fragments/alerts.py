# Copyright: (c) 2026, swarmops.ha contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # Alertmanager watched beside the swarm: swarm_wait and failover_drill.
    DOCUMENTATION = r"""
options:
  alerts:
    description:
      - Also watch Alertmanager's active alerts (its C(/api/v2/alerts)); each alert that appears or goes is a
        timeline entry (subject C(alert <alertname> <label>=<value>)).
      - An Alertmanager that does not answer is no failure; the alerts last seen are kept.
    type: dict
    suboptions:
      urls:
        description: Base URLs of Alertmanager, tried in order at each look (one per manager's routing proxy).
        type: list
        elements: str
        required: true
      host:
        description: Host header to send, the name the routing proxy serves Alertmanager by.
        type: str
      user:
        description: User of the routing proxy's basic authentication.
        type: str
      password:
        description: Password of O(alerts.user).
        type: str
      request_timeout:
        description: Seconds each request may take.
        type: float
        default: 2
      hold:
        description:
          - Seconds an alert stays counted after the last answer that listed it. The routing proxy asks the
            Alertmanagers in turn, and one that restarted lists nothing until Prometheus sends its alerts again;
            the timeline gives the time it was last listed.
        type: float
        default: 5
"""
