"""Every test phase's worker, start and duration, for the reader of a slow run (--timeline)."""

# Every test phase the controller heard of: (worker, start, seconds, phase, test).
PHASES = []
# A chain's step is printed at the end of the run from this many seconds on.
CHAIN_STEP = 30


def pytest_addoption(parser):
    parser.addoption("--timeline", metavar="PATH",
                     help="write when each test phase ran, on which worker and for how long, to PATH (tab-separated)")


def pytest_runtest_logreport(report):
    gateway = getattr(getattr(report, "node", None), "gateway", None)  # pytest-xdist's worker, on the controller
    PHASES.append((gateway.id if gateway else "main", report.start, report.stop - report.start, report.when,
                   report.nodeid))


def pytest_terminal_summary(terminalreporter, config):
    """Each worker's chain of long phases, from the run's start: what a slower run waited on."""
    path = config.getoption("timeline")
    if not path or not PHASES:
        return
    began = min(phase[1] for phase in PHASES)
    rows = sorted((worker, start - began, seconds, when, test) for worker, start, seconds, when, test in PHASES)
    with open(path, "w", encoding="utf-8") as out:
        out.write("worker\tstart_s\tseconds\tphase\ttest\n")
        out.writelines(f"{w}\t{s:.1f}\t{d:.1f}\t{p}\t{t}\n" for w, s, d, p, t in rows)
    terminalreporter.section(f"each worker's phases of {CHAIN_STEP} s or more (all of them: {path})")
    for worker, start, seconds, when, test in rows:
        if seconds >= CHAIN_STEP:
            terminalreporter.write_line(f"{worker} at {start:6.0f} s {seconds:5.0f} s {when:8} {test}")
