"""The systems compared: dualdiff, plain NumPy, and the anchors that happen to be installed.

An anchor is only imported when a workload uses it; ``load`` configures it for a fair
comparison (JAX in float64, PyTorch on the pinned number of threads).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class System:
    """A system: its name in tables, the module to import, and how to install it."""

    name: str
    module: str
    install: str
    distributions: tuple[str, ...]


SYSTEMS: dict[str, System] = {
    s.name: s
    for s in [
        System("dualdiff", "dualdiff", "pip install -e .", ("dualdiff",)),
        System("numpy", "numpy", "pip install numpy", ("numpy",)),
        System("jax", "jax", "pip install jax jaxlib", ("jax", "jaxlib")),
        System("torch", "torch", "pip install torch==2.13.0", ("torch",)),
        System("autograd", "autograd", "pip install autograd", ("autograd",)),
        System("numdifftools", "numdifftools", "pip install numdifftools", ("numdifftools",)),
        System("fastdual", "fastdual", "pip install fastdual", ("fastdual",)),
        System("dualpy", "dualpy", "pip install dualpy", ("dualpy",)),
        System("num-dual", "num_dual", "pip install num-dual", ("num-dual",)),
        System("uncertainties", "uncertainties", "pip install uncertainties", ("uncertainties",)),
        System("ad", "ad", "pip install ad", ("ad",)),
    ]
}

ALWAYS = ("numpy",)
"""Systems that are the baselines of every ratio: never deselected."""


def installed(name: str) -> bool:
    """Whether the system's module can be imported (without importing it)."""
    return importlib.util.find_spec(SYSTEMS[name].module) is not None


def version(name: str) -> str:
    """The installed versions of the system's distributions, e.g. ``0.4.30 / 0.4.30``."""
    found = []
    for dist in SYSTEMS[name].distributions:
        try:
            found.append(importlib.metadata.version(dist))
        except importlib.metadata.PackageNotFoundError:
            continue
    if not found:
        module = importlib.import_module(SYSTEMS[name].module)
        found.append(str(getattr(module, "__version__", "?")))
    return " / ".join(found)


_threads = 1


def set_threads(threads: int) -> None:
    """The thread count PyTorch is given when it is loaded."""
    global _threads
    _threads = threads


def load(name: str) -> ModuleType:
    """Import a system's module, configured for the benchmark."""
    module = importlib.import_module(SYSTEMS[name].module)
    if name == "jax":
        module.config.update("jax_enable_x64", True)
    elif name == "torch" and module.get_num_threads() != _threads:
        module.set_num_threads(_threads)
    return module
