"""A real headless browser for the integration tests: the distribution's Chromium driven by Playwright.

Playwright's own browser download is not used (it cannot be reached everywhere the tests run): the tests launch the
system's `chromium` (scripts/ensure-docker.sh installs it). Lab host names are mapped to lab addresses with
Chromium's --host-resolver-rules, so no resolver or /etc/hosts is touched. Screenshots land in reports/browser/,
which CI keeps."""

import contextlib
import os
import shutil
import socket
import ssl
import urllib.request

from labtools import ROOT

REPORTS = os.path.join(ROOT, "reports", "browser")


def chromium_path():
    """The system's Chromium; its absence is a failure (the test must run in CI), with what to install."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    raise AssertionError("no chromium on this machine: install the distribution's package (apt-get install chromium; "
                         "scripts/ensure-docker.sh does it as root)")


@contextlib.contextmanager
def chromium(host_map):
    """A headless Chromium that resolves each name of host_map to its address, and talks to them straight."""
    from playwright.sync_api import sync_playwright

    rules = ",".join(f"MAP {name} {address}" for name, address in host_map.items())
    args = ["--no-proxy-server", f"--host-resolver-rules={rules}"]
    if os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to start its sandbox as root
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=args)
        try:
            yield browser
        finally:
            browser.close()


def screenshot(page, name):
    """Keep what the page shows as a test artefact (reports/browser/<name>.png)."""
    os.makedirs(REPORTS, exist_ok=True)
    path = os.path.join(REPORTS, f"{name}.png")
    page.screenshot(path=path, full_page=True)
    return path


def served_certificate(address, port, ca_file):
    """The certificate served at address:port, verified against ca_file alone (chain and address); raises
    ssl.SSLCertVerificationError when it does not chain to that CA or does not name the address."""
    context = ssl.create_default_context(cafile=ca_file)  # with a cafile, no system CA is loaded
    with socket.create_connection((address, port), timeout=10) as sock, \
            context.wrap_socket(sock, server_hostname=address) as tls:
        return tls.getpeercert()


def fetch(address, path, host, timeout=5):
    """GET http://address/path with a Host header, straight (no proxy from the environment)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(f"http://{address}{path}", headers={"Host": host})
    with opener.open(request, timeout=timeout) as response:
        return response.read().decode()
