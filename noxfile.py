"""Development tasks: `nox -s tests`, `nox -s lint`, `nox -s typecheck`, `nox -s demo`.

Sessions run on the interpreter nox itself runs under; pyproject.toml lists the Python
versions hive-socket supports.
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "lint", "typecheck"]

PYPROJECT = nox.project.load_toml("pyproject.toml")


def install_group(session: nox.Session, group: str) -> None:
    session.install(*nox.project.dependency_groups(PYPROJECT, group))


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite, with coverage of the package."""
    session.install("-e", ".[server]")
    install_group(session, "test")
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", *session.posargs)
    session.run("coverage", "combine", "--quiet")
    session.run("coverage", "report")


@nox.session(name="tests-lowest")
def tests_lowest(session: nox.Session) -> None:
    """Run the test suite against the lowest dependency versions pyproject.toml allows."""
    if session.venv_backend != "uv":
        session.skip("needs uv for --resolution lowest-direct")
    # Only the package and pytest: tests of optional frameworks skip themselves here.
    session.install(
        "--resolution", "lowest-direct", "-e", ".[server]", "pytest>=8", "pytest-timeout>=2.3"
    )
    session.run("pytest", "-q", "-p", "no:cacheprovider", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Check style and formatting with ruff."""
    install_group(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """Type-check the package with mypy --strict."""
    session.install("-e", ".[server]")
    install_group(session, "typecheck")
    session.run("mypy", "--strict", "hive_socket")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site in strict mode (broken links and references fail)."""
    session.install("-e", ".[server]")
    install_group(session, "docs")
    session.env["NO_MKDOCS_2_WARNING"] = "1"
    session.run("mkdocs", "build", "--strict", "--site-dir", "site", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Measure what hive-socket costs per request against hand-written aiohttp and
    requests calls, in one process with the variants interleaved.

    Uses nginx as the stub server when it is installed (`apt-get install nginx-light`),
    else a small responder shipped in benchmarks/. Writes benchmarks/results/latest.json
    and docs/images/performance.png. Options pass through: `nox -s bench -- --quick`.
    """
    session.install("-e", ".")
    install_group(session, "bench")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """Start the local server and watch notifications arrive at a Socket.IO client."""
    session.install("-e", ".[server]")
    session.run("hive-socket", "demo", *session.posargs)
