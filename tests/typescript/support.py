"""The official TypeScript SDK for the tests: installed once, with npm, into a cache directory.

``contracts/typescript/package.json`` and its lock pin the SDK (and zod, the SDK's peer
dependency, at the major it was built with). The install goes into
``$CODAT_MOCK_NODE_CACHE`` or else ``$XDG_CACHE_HOME/codat-mock/node`` (``~/.cache/...``),
in a folder named after the lock file's hash, so a changed pin installs afresh and nothing is
ever written into the checkout. npm's own download cache lives there too, so a fresh machine
needs nothing but node, npm and the registry. Where node or npm is missing, or the registry
cannot be reached, the tests that need the SDK are skipped, saying why.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
JOURNEY_DIR = REPO / "contracts" / "typescript"
JOURNEY = JOURNEY_DIR / "journey.cjs"
PINS = ("package.json", "package-lock.json")
SDK_PACKAGE = Path("node_modules") / "@codat" / "sync-for-commerce" / "package.json"
MIN_NODE_MAJOR = 18
#: Seconds one npm install or one journey may take before it counts as failed.
INSTALL_TIMEOUT = 300
RUN_TIMEOUT = 180


@dataclass(frozen=True, slots=True)
class NodeSdk:
    """Where node is, and the node_modules folder holding the pinned SDK."""

    node: str
    node_modules: Path

    def env(self, base_url: str) -> dict[str, str]:
        """The environment the journey runs in, pointed at ``base_url``."""
        return {
            **os.environ,
            "NODE_PATH": str(self.node_modules),
            "CODAT_BASE_URL": base_url,
            "CODAT_MOCK_URL": base_url,
        }


def cache_root() -> Path:
    """Where installs go: ``$CODAT_MOCK_NODE_CACHE``, else the user's cache directory."""
    chosen = os.environ.get("CODAT_MOCK_NODE_CACHE")
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "codat-mock" / "node"


def install_sdk() -> NodeSdk:
    """The pinned SDK, installed if it is not yet; ``pytest.skip`` when it cannot be."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed for the TypeScript SDK tests; not on PATH")
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, timeout=30, check=False
    ).stdout.strip()
    major = re.match(r"v(\d+)\.", version)
    if major is None or int(major.group(1)) < MIN_NODE_MAJOR:
        pytest.skip(f"the TypeScript SDK needs Node {MIN_NODE_MAJOR}+; this is {version!r}")
    digest = hashlib.sha256(b"".join((JOURNEY_DIR / name).read_bytes() for name in PINS))
    target = cache_root() / f"sdk-{digest.hexdigest()[:16]}"
    if not (target / SDK_PACKAGE).is_file():
        _npm_ci(npm, target)
    return NodeSdk(node, target / "node_modules")


def _npm_ci(npm: str, target: Path) -> None:
    """Install the pins into ``target``: in a folder of its own first, then moved in place,
    so an interrupted install never looks like a finished one."""
    staging = target.with_name(f"{target.name}.{os.getpid()}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in PINS:
        shutil.copyfile(JOURNEY_DIR / name, staging / name)
    # Two quick retries rather than npm's minute-long backoff: without a registry the tests
    # are skipped in seconds.
    command = [
        npm,
        "ci",
        "--no-audit",
        "--no-fund",
        "--ignore-scripts",
        "--loglevel=error",
        "--fetch-retries=2",
        "--fetch-retry-mintimeout=1000",
        "--fetch-retry-maxtimeout=4000",
    ]
    env = {**os.environ, "npm_config_cache": str(cache_root() / "npm-cache")}
    try:
        done = subprocess.run(
            command,
            cwd=staging,
            env=env,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        shutil.rmtree(staging, ignore_errors=True)
        pytest.skip(f"npm ci did not finish in {INSTALL_TIMEOUT} s (is the registry reachable?)")
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        said = [line for line in done.stderr.splitlines() if "complete log" not in line]
        reason = next((line for line in said if line.strip()), "(no output)")
        pytest.skip(f"npm could not install the TypeScript SDK (no registry?): {reason}")
    if target.exists():  # another run finished first: keep its install
        shutil.rmtree(staging, ignore_errors=True)
    else:
        staging.rename(target)


def run_journey(sdk: NodeSdk, base_url: str) -> subprocess.CompletedProcess[str]:
    """Run ``journey.cjs`` against ``base_url``; its exit status and output."""
    return subprocess.run(
        [sdk.node, str(JOURNEY)],
        env=sdk.env(base_url),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
