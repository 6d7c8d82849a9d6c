"""Column colouring: group structurally orthogonal Jacobian columns so one pass computes them all.

Two columns may share a colour when no row has a non-zero in both (a distance-2 colouring of the
bipartite row/column graph, i.e. an ordinary colouring of the column intersection graph). Seeding
``x`` with the sum of the unit vectors of one colour then gives, in each row, the single non-zero
of that colour: ``J @ s_c`` holds every entry ``J[i, j]`` with ``colour[j] = c`` at row ``i``. A
banded matrix of bandwidth ``b`` needs about ``2b + 1`` colours whatever its size.

The greedy algorithm gives each column, in a chosen order, the smallest colour unused by its
neighbours; the order matters (Gebremedhin, Manne & Pothen, SIAM Review 47, 2005).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tracer import Pattern, _unique

__all__ = ["color_columns", "is_valid_coloring", "column_graph", "ORDERS"]

ORDERS = ("largest_first", "smallest_last", "natural")

# Above this many (row, column, column) triples the intersection graph is not built; the colouring
# then walks the rows of each column directly (same colours, less memory, slower).
_GRAPH_LIMIT = 20_000_000
_PAIRS = 1 << 20  # pairs of columns made at once while building the graph


def column_graph(pattern: Pattern) -> tuple[np.ndarray, np.ndarray]:
    """The column intersection graph in CSR form ``(indptr, neighbours)``, without self-loops.

    Columns ``j`` and ``k`` are neighbours when some row has non-zeros in both. Built from the
    rows of each length at once (a block of their columns, paired with itself), each pair once
    as ``j < k`` and in blocks of rows of at most ``_PAIRS`` pairs; both directions are made
    from the distinct pairs at the end. Memory: a few times the graph's size.
    """
    n = pattern.shape[1]
    lengths = np.diff(pattern.indptr)
    parts = []
    for length in _unique(lengths[lengths > 1]).tolist():
        rows = np.flatnonzero(lengths == length)
        first, second = np.triu_indices(length, 1)
        step = max(1, _PAIRS // first.size)
        for lo in range(0, rows.size, step):
            at = pattern.indptr[rows[lo : lo + step]]
            block = pattern.indices[at[:, None] + np.arange(length)]
            a, b = block[:, first].ravel(), block[:, second].ravel()
            del block
            keys = np.minimum(a, b).astype(np.int64)
            keys *= n
            keys += np.maximum(a, b)
            keys = keys[a != b]  # (a column repeated in a row is no edge)
            del a, b
            parts.append(_unique(keys, own=True))
            del keys
    if len(parts) == 1:
        half = parts.pop()
    else:
        half = _unique(np.concatenate(parts), own=True) if parts else np.zeros(0, np.int64)
    del parts
    j, k = np.divmod(half, n)
    keys = np.empty(2 * half.size, dtype=np.int64)
    keys[: half.size] = half
    del half
    np.multiply(k, n, out=keys[j.size :])
    keys[j.size :] += j
    del j, k
    keys.sort()  # (j, k) and (k, j) of distinct pairs j < k: no repeats
    j = keys // n
    indptr = np.concatenate(([0], np.cumsum(np.bincount(j, minlength=n))))
    j *= n
    keys -= j
    del j
    return indptr, keys.astype(np.intp, copy=False)


def _as_list(a: np.ndarray, ints: list[int]) -> list[int]:
    """``a.tolist()`` for ``a`` of columns, holding the integer objects of ``ints`` (the list
    of ``range(n)``): one object per column, not one per entry (a third of the memory, and
    the loops over them slightly faster); converted in blocks, so the fresh ones stay few."""
    out: list[int] = []
    get = ints.__getitem__
    for lo in range(0, a.size, 1 << 16):
        out += map(get, a[lo : lo + (1 << 16)].tolist())
    return out


def _order(order: str, indptr: np.ndarray, neighbours: np.ndarray, ints: list[int]) -> Any:
    n = indptr.size - 1
    if order == "natural":
        return np.arange(n)
    if order == "largest_first":
        return np.argsort(-np.diff(indptr), kind="stable")
    # the loop runs on Python lists: indexing one is several times cheaper than an array
    degree = np.diff(indptr)
    return _smallest_last(indptr.tolist(), _as_list(neighbours, ints), _as_list(degree, ints), ints)


def _smallest_last(
    starts: list[int], nbrs: list[int], degree: list[int], ints: list[int]
) -> list[int]:
    """Repeatedly remove a vertex of least remaining degree; the order is the reverse.

    Removal is inherently sequential (the next vertex depends on the degrees the last removal
    left), so this is a loop over vertices, not NumPy. A bucket queue (Matula and Beck) of
    Python lists used as stacks: a vertex whose degree drops is pushed onto its new bucket and
    its old entry is left behind, skipped when popped (its degree no longer matches). Each
    bucket's live entries are then in the order of a doubly linked list that inserts and
    removes at its head, with a third of the work per degree update."""
    n = len(degree)
    degree = list(degree)  # remaining degrees; -1 once removed
    buckets: list[list[int]] = [[] for _ in range(max(degree, default=0) + 1)]
    for v in reversed(ints[:n]):
        buckets[degree[v]].append(v)
    sequence: list[int] = []
    append = sequence.append
    low = 0
    for _ in range(n):
        if low:
            low -= 1  # one removal lowers the least degree by one at most
        while True:
            bucket = buckets[low]
            while bucket:
                v = bucket.pop()
                if degree[v] == low:
                    break
            else:
                low += 1
                continue
            break
        degree[v] = -1
        append(v)
        for u in nbrs[starts[v] : starts[v + 1]]:
            d = degree[u]
            if d > 0:  # (a vertex still there has v among its neighbours: degree 1 at least)
                d -= 1
                degree[u] = d
                buckets[d].append(u)
    sequence.reverse()
    return sequence


def _greedy(
    sequence: Any, indptr: np.ndarray, neighbours: np.ndarray, ints: list[int]
) -> np.ndarray:
    """Each column in ``sequence`` gets the smallest colour none of its neighbours has.

    Sequential by nature (a column's colour depends on those given before it); a vectorised
    scheme (Jones-Plassmann rounds with random priorities, then class-by-class recolouring)
    measured 7 colours on the 1-D Brusselator where this greedy finds the optimal 4. The loop
    is made cheap instead: only a column's neighbours earlier in ``sequence`` have colours, so
    NumPy drops the others first (half the graph); their colours are marked with the column in
    one list, so no set is built per column."""
    n = indptr.size - 1
    order = np.asarray(sequence, dtype=np.intp)
    rank = np.empty(n, dtype=np.intp)
    rank[order] = np.arange(n)
    earlier = rank[neighbours] < np.repeat(rank, np.diff(indptr))
    del rank
    kept = np.concatenate(([0], np.cumsum(earlier)))[indptr]  # each column's first entry
    starts, nbrs = kept.tolist(), _as_list(neighbours[earlier], ints)
    mark = [-1] * (int(np.diff(kept).max(initial=0)) + 1)
    del earlier, kept
    colors = [0] * n  # (read for coloured columns only)
    for v in _as_list(order, ints):
        for u in nbrs[starts[v] : starts[v + 1]]:
            mark[colors[u]] = v
        c = 0
        while mark[c] == v:
            c += 1
        colors[v] = c
    return np.asarray(colors, dtype=np.intp)


def color_columns(pattern: Any, order: str = "largest_first") -> np.ndarray:
    """Colours (integers from 0) for the columns of a Jacobian pattern, one per column.

    ``pattern``: a boolean array of shape ``(m, n)``, a ``scipy.sparse`` matrix, or a
    ``dualdiff.sparsity.tracer.Pattern``. ``order``: ``"largest_first"`` (columns with most
    neighbours first, the default), ``"smallest_last"`` (often fewer colours, a little slower) or
    ``"natural"``. No row has two non-zeros of one colour; ``colors.max() + 1`` colours are used,
    at least the largest number of non-zeros in a row.
    """
    return color_candidates(pattern, (order,))[0]


def color_candidates(pattern: Any, orders: Any, enough: int | None = None) -> list[np.ndarray]:
    """Colourings of ``pattern`` in each of ``orders``, from one column graph; stops early once
    a colouring uses at most ``enough`` colours (the largest row count is a lower bound)."""
    pattern = Pattern.coerce(pattern, what="color_columns")
    for order in orders:
        if order not in ORDERS:
            raise ValueError(f"color_columns: order must be one of {ORDERS}, got {order!r}")
    lengths = np.diff(pattern.indptr)
    n = pattern.shape[1]
    if n and int(lengths.max(initial=0)) == n:
        # a row with every column needs a colour per column: the identity is optimal, and a
        # dense pattern needs no graph (m * n * n pairs)
        return [np.arange(n, dtype=np.intp) for _ in orders]
    if int((lengths.astype(np.int64) ** 2).sum()) > _GRAPH_LIMIT:
        return [_color_by_rows(pattern, order) for order in orders]
    indptr, neighbours = column_graph(pattern)
    ints = list(range(n))  # the columns' integer objects, shared by the loops' lists
    out = []
    for order in orders:
        sequence = _order(order, indptr, neighbours, ints)
        out.append(_greedy(sequence, indptr, neighbours, ints))
        if enough is not None and int(out[-1].max(initial=-1)) + 1 <= enough:
            break
    return out


def _color_by_rows(pattern: Pattern, order: str) -> np.ndarray:
    """Greedy colouring that reads each column's neighbours from its rows (no graph in memory)."""
    n = pattern.shape[1]
    columns = pattern.transpose()
    degree = np.zeros(n, dtype=np.int64)  # an upper bound on the graph degree: sum of row lengths
    np.add.at(
        degree, pattern.indices, np.repeat(np.diff(pattern.indptr) - 1, np.diff(pattern.indptr))
    )
    sequence = range(n) if order == "natural" else np.argsort(-degree, kind="stable")
    colors = np.full(n, -1, dtype=np.intp)
    for v in sequence:
        rows = columns.indices[columns.indptr[v] : columns.indptr[v + 1]]
        if rows.size:
            cols = np.concatenate(
                [pattern.indices[pattern.indptr[r] : pattern.indptr[r + 1]] for r in rows]
            )
            used = colors[cols]
            used = _unique(used[used >= 0])
            gaps = np.nonzero(used != np.arange(used.size))[0]
            colors[v] = gaps[0] if gaps.size else used.size
        else:
            colors[v] = 0
    return colors


def is_valid_coloring(pattern: Any, colors: Any) -> bool:
    """Whether no row of ``pattern`` has two non-zeros in columns of the same colour."""
    pattern = Pattern.coerce(pattern, what="is_valid_coloring")
    colors = np.asarray(colors)
    if colors.shape != (pattern.shape[1],):
        return False
    keys = (
        pattern.rows().astype(np.int64) * (int(colors.max(initial=0)) + 1) + colors[pattern.indices]
    )
    return _unique(keys).size == keys.size
