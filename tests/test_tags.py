"""Perturbation tags: nested derivatives never confuse their perturbations, also across threads
and processes."""

from __future__ import annotations

import concurrent.futures
import math
import multiprocessing
import os
import pickle
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import dualdiff as dd
from dualdiff import Dual
from dualdiff.core import tags
from dualdiff.core.tags import new_tag


def confusion() -> float:
    # Siskind & Pearlmutter: d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1 (untagged duals give 2)
    return dd.derivative(lambda x: x * dd.derivative(lambda y: x + y, 1.0), 1.0)


def test_perturbation_confusion_example():
    assert confusion() == 1.0


def test_inner_derivative_closing_over_outer_variable():
    # d/dx d/dy (x*y)**2 at (2, 3) = d/dx 2 x² y = 4 x y = 24
    result = dd.derivative(lambda x: dd.derivative(lambda y: (x * y) ** 2, 3.0), 2.0)
    assert result == pytest.approx(24.0)


def test_second_derivative_by_nesting():
    d2 = dd.derivative(lambda x: dd.derivative(lambda u: np.exp(np.sin(u)), x), 0.7)
    s, c = math.sin(0.7), math.cos(0.7)
    assert d2 == pytest.approx(math.exp(s) * (c * c - s), rel=1e-14)


def test_third_derivative_by_nesting():
    def d(f):
        return lambda x: dd.derivative(f, x)

    assert d(d(d(lambda x: x**4)))(2.0) == pytest.approx(48.0)


def test_duals_of_different_tags_combine_in_either_order():
    a, b = new_tag(), new_tag()
    outer = Dual(2.0, 1.0, a)
    inner = Dual(3.0, 1.0, b)
    for product in (outer * inner, inner * outer):
        assert product.tag == b  # the newer tag is the outer layer
        assert product.value.tag == a
        assert product.value.value == 6.0
        assert product.tangent.value == 2.0  # d/db = outer's value (as a dual in a)
        assert product.value.tangent == 3.0  # d/da = inner's value


def test_tags_are_unique_and_increasing():
    tags = [new_tag() for _ in range(100)]
    assert tags == sorted(set(tags))


def test_same_results_from_eight_threads():
    def work(i: int) -> tuple[float, float, float]:
        x = 0.5 + 0.1 * i
        second = dd.derivative(lambda u: dd.derivative(lambda v: v**3, u), x)
        hess = dd.jacobian(lambda z: dd.gradient(lambda w: np.sum(w**3), z), np.array([x, 1.0]))
        return confusion(), second, hess[0, 0]

    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(5):
            results = list(pool.map(work, range(8)))
            for i, (conf, second, hess) in enumerate(results):
                x = 0.5 + 0.1 * i
                assert conf == 1.0
                assert second == pytest.approx(6 * x)
                assert hess == pytest.approx(6 * x)


def test_gradient_inside_derivative_and_jacobian_of_derivative():
    # d/dt of the gradient of sum(t * x**2) at x: 2x, and the Jacobian of x -> d/ds sin(s x)
    g = dd.derivative(lambda t: dd.gradient(lambda x: np.sum(t * x**2), np.array([1.0, 2.0])), 3.0)
    np.testing.assert_allclose(g, [2.0, 4.0])
    jac = dd.jacobian(lambda x: dd.derivative(lambda s: np.sin(s * x), 0.5), np.array([0.3, 1.1]))
    x = np.array([0.3, 1.1])
    expected = np.diag(np.cos(0.5 * x) - 0.5 * x * np.sin(0.5 * x))
    np.testing.assert_allclose(jac, expected, rtol=1e-13)


def test_jvp_inside_derivative():
    f = lambda t: dd.jvp(lambda x: np.sin(t * x), 2.0, 1.0)[1]  # t cos(t x) at x = 2
    assert dd.derivative(f, 0.4) == pytest.approx(math.cos(0.8) - 0.8 * math.sin(0.8))


# -- across processes ----------------------------------------------------------------------------
# A worker process that starts afresh (spawn, forkserver) restarted the tag counter at 1: an inner
# differentiation there got a smaller tag than the parent's dual in f's closure and treated it as
# the newer perturbation (derivative(... jacobian(..., workers=2) ...) gave 0.0 instead of 2.0).


def _burn_tags() -> None:
    # the parent's next tags are newer than anything a fresh worker counts up to in these tests
    for _ in range(10_000):
        new_tag()


def _closure_through_workers(workers) -> float:
    # d/ds [ d/dx_0 of s * x**2 at x = 1 ] = d/ds 2 s = 2
    return dd.derivative(
        lambda s: dd.jacobian(lambda x: s * x**2, np.ones(3), workers=workers, chunk=1)[0, 0], 2.0
    )


def _inner_derivative(s):
    """In a worker: d/dx (s * x**2) at x = 3, with s a dual of the parent process."""
    return dd.derivative(lambda x: s * x**2, 3.0)


def _tags_in_worker(_):
    import os

    return os.getpid(), new_tag(), new_tag()


@pytest.fixture(scope="module")
def spawn_pool():
    # one long-lived pool of fresh interpreters, reused by every test below
    pytest.importorskip("cloudpickle")
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        yield pool


_FRESH_PROCESS = """
import multiprocessing, sys
import numpy as np
import dualdiff as dd

if __name__ == "__main__":
    method = sys.argv[1]
    multiprocessing.set_start_method(method)
    if method == "forkserver":  # workers forked from a server that imported dualdiff once
        multiprocessing.set_forkserver_preload(["dualdiff"])
    f = lambda s: dd.jacobian(lambda x: s * x**2, np.ones(3), workers=2)[0, 0]
    print(dd.derivative(f, 2.0))
"""


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_nesting_through_workers_from_a_fresh_process(method):
    # the reproduction, in a fresh process: its first tags and a fresh worker's are
    # the same integers under a plain counter (the answer was 0.0)
    pytest.importorskip("cloudpickle")
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} start method on this platform")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run(
        [sys.executable, "-c", _FRESH_PROCESS, method],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) == 2.0


def _catch_up(tag):
    """In a worker: draw tags until the next one would be ``tag`` or newer. Under a plain
    counter, the worker's next inner differentiation then got exactly ``tag``."""
    import time

    while new_tag() < tag - 1:
        pass
    time.sleep(0.2)  # keeps this worker busy: the other one takes the other task


def _catch_up_workers(pool) -> None:
    # the worst case of a pool that has lived long: its workers' counters have reached the tag
    # the next differentiation here takes
    pool.map(_catch_up, [new_tag() + 1] * 2, chunksize=1)


def test_nesting_through_a_long_lived_spawn_pool(spawn_pool):
    x = np.array([0.5, 1.0, 2.0])
    for _ in range(2):  # the same pool, whose workers' clocks moved on in the first call
        _catch_up_workers(spawn_pool)
        jac = dd.derivative(
            lambda s: dd.jacobian(lambda x: s * x**2, x, workers=spawn_pool.map, chunk=1), 2.0
        )
        np.testing.assert_allclose(jac, np.diag(2 * x), rtol=1e-14)  # d/ds diag(2 s x)


def test_nesting_through_workers_by_count():
    pytest.importorskip("cloudpickle")
    _burn_tags()
    assert _closure_through_workers(2) == pytest.approx(2.0, rel=1e-14)


def test_a_dual_sent_to_a_fresh_process_by_hand(spawn_pool):
    # no dualdiff machinery between the processes: unpickling the dual moves the worker's clock
    _catch_up_workers(spawn_pool)
    # d/ds of d/dx (s x²) at x = 3, i.e. d/ds 6 s = 6
    result = dd.derivative(lambda s: spawn_pool.apply(_inner_derivative, (s,)), 2.0)
    assert result == pytest.approx(6.0, rel=1e-14)
    _catch_up_workers(spawn_pool)
    hess = dd.jacobian(
        lambda s: spawn_pool.apply(_inner_derivative, (s * s,)), np.array([0.5, 1.5])
    )  # d/ds 6 s² = 12 s on the diagonal
    np.testing.assert_allclose(hess, np.diag([6.0, 18.0]), rtol=1e-14)


def test_tags_of_sibling_processes_never_collide(spawn_pool):
    low = 2**64 - 1
    parts = {os.getpid(): {new_tag() & low}}
    seen = {new_tag()}
    for pid, *two in spawn_pool.map(_tags_in_worker, range(8), chunksize=1):
        assert not seen & set(two)
        seen |= set(two)
        parts.setdefault(pid, set()).update(t & low for t in two)
    # the low 64 bits tell processes apart even where two clocks agree: one part per process
    assert all(len(p) == 1 for p in parts.values())
    assert len(set().union(*parts.values())) == len(parts) >= 2


def test_forked_children_draw_a_new_process_part():
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork start method on this platform")
    before = new_tag()
    with concurrent.futures.ProcessPoolExecutor(
        1, mp_context=multiprocessing.get_context("fork")
    ) as executor:
        pid, a, b = executor.submit(_tags_in_worker, 0).result()
    assert a > before and b > a  # the copied clock goes on ...
    assert a & (2**64 - 1) != before & (2**64 - 1)  # ... under another process part
    assert a & (2**64 - 1) == b & (2**64 - 1)


@pytest.mark.parametrize(
    "make",
    [
        lambda t: Dual(1.5, 2.0, t),
        lambda t: dd.DualArray(np.ones(3), np.full(3, 2.0), t),
        lambda t: dd.Taylor([1.0, 2.0, 3.0], tag=t),
        lambda t: Dual(Dual(1.5, 1.0, 3), Dual(0.0, 1.0, 3), t),
    ],
    ids=["Dual", "DualArray", "Taylor", "nested"],
)
def test_unpickling_a_dual_moves_the_clock_past_its_tag(make):
    # a tag from another process far ahead of this one's clock
    foreign = ((tags.clock() + 10**9) << 64) | 12345
    received = pickle.loads(pickle.dumps(make(foreign)))
    assert received.tag == foreign
    assert new_tag() > foreign
    # nesting inside the received dual: the inner differentiation is the newer perturbation
    if type(received) is Dual and type(received.value) is float:
        inner = dd.derivative(lambda y: received * y**2, 3.0)  # 6 * received
        assert inner.tag == foreign
        assert inner.value == 9.0 and inner.tangent == 12.0


def test_observe_and_advance():
    now = tags.clock()
    tags.observe(tags.USER_TAG)  # hand-built tags are always older
    tags.observe(7)
    assert tags.clock() == now + 1  # clock() draws one tick
    tags.advance(now + 10**6)
    assert new_tag() >> 64 > now + 10**6
    later = new_tag()
    tags.advance(now)  # never backwards
    assert new_tag() > later


def test_observe_from_many_threads_keeps_tags_unique_and_ahead():
    base = tags.clock()

    def work(i: int) -> list[int]:
        out = []
        for j in range(200):
            if j % 50 == 0:
                tags.advance(base + 1000 * i + j)
            out.append(new_tag())
        return out

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = [t for part in pool.map(work, range(8)) for t in part]
    assert len(set(results)) == len(results)
    assert new_tag() >> 64 > base + 7000


def test_traced_tag_is_newer_than_every_tag():
    from dualdiff.compiler.symbolic import SymbolicDual

    tags.advance(tags.clock() + 2**40)
    assert SymbolicDual.tag > new_tag()
