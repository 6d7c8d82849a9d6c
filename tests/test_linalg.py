"""numpy.linalg rules on DualArrays, checked against central differences of plain NumPy."""

import numpy as np
import pytest

import dualdiff
import dualdiff.arrays.linalg  # noqa: F401 - registers the numpy.linalg rules

LA = np.linalg
H = 1e-5
RTOL = 1e-6


def rng(seed=0):
    return np.random.default_rng(seed)


def general(n, seed=0, batch=()):
    """A well-conditioned random square matrix (or stack)."""
    return rng(seed).normal(size=batch + (n, n)) + n * np.eye(n)


def spd(n, seed=0, batch=()):
    a = rng(seed).normal(size=batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def arr(*shape, seed=0):
    return rng(seed).normal(size=shape)


def rect(m, n, seed=0, batch=()):
    return rng(seed).normal(size=batch + (m, n))


def cplx(*shape, seed=0):
    r = rng(seed)
    return r.normal(size=shape) + 1j * r.normal(size=shape)


def as_tuple(y):
    """NumPy's named results (EighResult, ...) as plain tuples; other outputs unchanged."""
    return tuple(y) if isinstance(y, tuple) else y


def numeric_jvp(f, x, v, h=H):
    plus, minus = as_tuple(f(x + h * v)), as_tuple(f(x - h * v))
    if isinstance(plus, tuple):
        return tuple((np.asarray(p) - np.asarray(m)) / (2 * h) for p, m in zip(plus, minus))
    return (np.asarray(plus) - np.asarray(minus)) / (2 * h)


def numeric_jacobian(f, x, h=H):
    columns = []
    for i in range(x.size):
        e = np.zeros(x.size, x.dtype)
        e[i] = 1.0
        columns.append(numeric_jvp(f, x, e.reshape(x.shape), h))
    if isinstance(columns[0], tuple):
        return tuple(
            np.stack([c[j] for c in columns], axis=-1).reshape(np.shape(columns[0][j]) + x.shape)
            for j in range(len(columns[0]))
        )
    return np.stack(columns, axis=-1).reshape(np.shape(columns[0]) + x.shape)


def assert_close(actual, expected, rtol=RTOL):
    if isinstance(expected, tuple):
        assert isinstance(actual, tuple) and len(actual) == len(expected)
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol)
        return
    expected = np.asarray(expected)
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(np.asarray(actual), expected, rtol=rtol, atol=rtol * scale)


def check_jvp(f, x, v=None, seed=1, rtol=RTOL):
    """One direction: dualdiff.jvp against central differences; the value against NumPy."""
    if v is None:
        r = rng(seed)
        v = r.normal(size=x.shape)
        if np.iscomplexobj(x):
            v = v + 1j * r.normal(size=x.shape)
    value, tangent = dualdiff.jvp(lambda y: as_tuple(f(y)), x, v)
    assert_close(value, as_tuple(f(x)), 1e-12)
    assert_close(tangent, numeric_jvp(f, x, v), rtol)


def check_jacobian(f, x, rtol=RTOL):
    """All directions in one pass: dualdiff.jacobian against central differences."""
    assert_close(dualdiff.jacobian(lambda y: as_tuple(f(y)), x), numeric_jacobian(f, x), rtol)


def check_hessian(f, x, rtol=1e-5):
    """Nested: the Jacobian of dualdiff.gradient against differences of that gradient."""
    hessian = dualdiff.jacobian(lambda y: dualdiff.gradient(f, y), x)
    reference = numeric_jacobian(lambda y: dualdiff.gradient(f, y), x)
    assert_close(hessian, reference, rtol)


# One case per function, argument kind and flag (constant operands, stacks, broadcasting) lives
# in the shared list (cases.py) and runs through every mode there. Here: every norm order, complex
# matrices, phase conventions, second derivatives and singular matrices.

B3 = rng(7).normal(size=3)
Y6 = rng(9).normal(size=6)


# ---------------------------------------------------------------------------------------------
# Norms: every ord/axis combination NumPy accepts
# ---------------------------------------------------------------------------------------------

VECTOR_ORDS = [None, 2, 1, 3, 0.5, -1, -2.5, np.inf, -np.inf, 0]
MATRIX_ORDS = [None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf]


@pytest.mark.parametrize("ord", VECTOR_ORDS)
def test_vector_norms(ord):
    check_jvp(lambda x: LA.norm(x, ord), rng(3).normal(size=5))
    check_jvp(lambda x: LA.norm(x, ord, axis=1, keepdims=True), rect(3, 4))
    check_jvp(lambda x: LA.norm(x, ord, axis=-3), arr(2, 3, 4))
    check_jvp(lambda x: LA.vector_norm(x, ord=ord if ord is not None else 2), rect(2, 3))


@pytest.mark.parametrize("ord", MATRIX_ORDS)
def test_matrix_norms(ord):
    check_jvp(lambda x: LA.norm(x, ord), rect(3, 4))
    check_jvp(lambda x: LA.norm(x, ord, axis=(2, 0)), arr(3, 2, 4))
    check_jvp(lambda x: LA.norm(x, ord, axis=(0, -1), keepdims=True), arr(3, 2, 4))
    check_jvp(lambda x: LA.matrix_norm(x, ord=ord if ord is not None else "fro"), arr(2, 3, 3))


def test_norm_default_flattens_any_ndim():
    check_jvp(lambda x: LA.norm(x, keepdims=True), arr(2, 3, 4))
    check_jacobian(LA.norm, rect(2, 3))


@pytest.mark.parametrize("ord", [None, 1, 3, np.inf])
def test_complex_vector_norms(ord):
    check_jvp(lambda x: LA.norm(x, ord), cplx(4))


@pytest.mark.parametrize("ord", ["fro", "nuc", 1, 2, -2, np.inf])
def test_complex_matrix_norms(ord):
    check_jvp(lambda x: LA.norm(x, ord), cplx(3, 4))


@pytest.mark.filterwarnings("ignore:divide by zero")  # NumPy's own value for ord=-1
@pytest.mark.parametrize("ord", [None, 1, 2, 3, 0.5, -1])
def test_norm_of_zero_vector_has_zero_gradient(ord):
    assert np.array_equal(dualdiff.gradient(lambda x: LA.norm(x, ord), np.zeros(3)), np.zeros(3))


def test_complex_zero_norm_has_a_real_zero_tangent():
    # ord=0 counts the nonzero entries: NumPy's result is real, and so is its (zero) tangent
    x = cplx(3, 4, seed=4).astype(np.complex64)
    value, tangent = dualdiff.jvp(lambda a: LA.norm(a, 0, axis=0), x, x)
    assert value.dtype == tangent.dtype == np.float32
    np.testing.assert_array_equal(tangent, 0.0)


def test_norm_at_zero_entries_uses_the_absolute_value_convention():
    x = np.array([3.0, 0.0, -4.0])
    np.testing.assert_allclose(dualdiff.gradient(lambda y: LA.norm(y, 1), x), [1.0, 0.0, -1.0])
    np.testing.assert_allclose(dualdiff.gradient(LA.norm, x), x / 5.0)
    zero = np.zeros((2, 2))
    assert np.array_equal(dualdiff.gradient(lambda y: LA.norm(y, "fro"), zero), zero)


def test_norm_ties_share_the_tangent():
    # max(|x|) with |x_0| = |x_1|: the derivative is split evenly, as for np.max
    grad = dualdiff.gradient(lambda y: LA.norm(y, np.inf), np.array([2.0, -2.0, 1.0]))
    np.testing.assert_allclose(grad, [0.5, -0.5, 0.0])


# ---------------------------------------------------------------------------------------------
# Complex matrices
# ---------------------------------------------------------------------------------------------

HERMITIAN = cplx(3, 3) @ cplx(3, 3).conj().T + 3 * np.eye(3)


def phase_free(factors):
    """Functions of a complex eigh/svd that do not depend on the vectors' phases."""
    if len(factors) == 2:
        w, v = factors
        return w, (v * w**2) @ v.conj().T, abs(v)
    u, s, vh = factors
    return s, (u * s**2) @ vh, abs(u), abs(vh)


COMPLEX = {
    "solve": (lambda a: LA.solve(a, cplx(3, seed=2)), cplx(3, 3) + 3 * np.eye(3)),
    "inv": (LA.inv, cplx(3, 3) + 3 * np.eye(3)),
    "det": (LA.det, cplx(3, 3)),
    "slogdet": (LA.slogdet, cplx(3, 3)),
    "cholesky": (LA.cholesky, HERMITIAN),
    "cholesky_upper": (lambda a: LA.cholesky(a, upper=True), HERMITIAN),
    "qr": (LA.qr, cplx(4, 3)),
    "qr_wide": (LA.qr, cplx(2, 4)),
    "eigvalsh": (LA.eigvalsh, HERMITIAN),
    # eigen/singular vectors have a free phase: check quantities that do not depend on it
    "eigh_invariants": (lambda a: phase_free(LA.eigh(a)), HERMITIAN),
    "svd_invariants": (lambda a: phase_free(LA.svd(a, full_matrices=False)), cplx(4, 3)),
    "svd_invariants_wide": (lambda a: phase_free(LA.svd(a, full_matrices=False)), cplx(3, 4)),
    # the vectors themselves: their phase is LAPACK's (one row real), in the tangent too
    "eigh": (LA.eigh, HERMITIAN),
    "eigh_upper": (lambda a: LA.eigh(a, "U"), HERMITIAN),
    "svd": (lambda a: LA.svd(a, full_matrices=False), cplx(4, 3)),
    "svd_wide": (lambda a: LA.svd(a, full_matrices=False), cplx(3, 4)),
    "svd_hermitian": (lambda a: LA.svd(a, hermitian=True), HERMITIAN),
    "pinv": (LA.pinv, cplx(4, 3)),
    "lstsq": (lambda a: LA.lstsq(a, cplx(5, seed=3))[:2], cplx(5, 3)),
}


@pytest.mark.parametrize("name", sorted(COMPLEX))
def test_complex_matrices(name):
    f, x = COMPLEX[name]
    check_jvp(f, x)


def test_complex_phase_conventions():
    # the phase left free by eigh and svd is LAPACK's: the row of V (U) NumPy returns real
    direction = cplx(3, 3, seed=5)
    (w, v), (dw, dv) = dualdiff.jvp(lambda a: tuple(LA.eigh(a)), HERMITIAN, direction)
    np.testing.assert_allclose(np.imag(dv[0]), 0.0, atol=1e-12)
    (w, v), (dw, dv) = dualdiff.jvp(lambda a: tuple(LA.eigh(a, "U")), HERMITIAN, direction)
    np.testing.assert_allclose(np.imag(dv[-1]), 0.0, atol=1e-12)
    a = cplx(4, 3)
    (u, s, vh), (du, ds, dvh) = dualdiff.jvp(
        lambda x: tuple(LA.svd(x, full_matrices=False)), a, cplx(4, 3, seed=6)
    )
    np.testing.assert_allclose(np.imag(dvh[:, 0]), 0.0, atol=1e-12)
    # and the factors still reproduce da: d(U S Vh) = da
    np.testing.assert_allclose((du * s) @ vh + (u * ds) @ vh + (u * s) @ dvh, cplx(4, 3, seed=6))


# ---------------------------------------------------------------------------------------------
# Nested differentiation (second derivatives through the rules)
# ---------------------------------------------------------------------------------------------


def test_hessian_of_log_det_closed_form():
    a = general(3)
    ainv = LA.inv(a)
    expected = -np.einsum("li,jk->ijkl", ainv, ainv)  # d2 log det / dA_ij dA_kl
    for f in (lambda x: np.log(LA.det(x)), lambda x: LA.slogdet(x)[1]):
        assert_close(dualdiff.jacobian(lambda x: dualdiff.gradient(f, x), a), expected, 1e-10)


NESTED = {
    "det": (LA.det, general(3)),
    "det_identity": (LA.det, np.eye(3)),
    "det_singular": (LA.det, np.outer(B3, [1.0, 0.0, 1.0]) + np.outer([0.0, 1.0, 1.0], B3)),
    "inv": (lambda a: np.sum(LA.inv(a) ** 2), general(3)),
    "solve": (lambda a: np.sum(LA.solve(a, B3) ** 3), general(3)),
    "cholesky": (lambda a: np.sum(LA.cholesky(a) ** 3), spd(3)),
    "qr": (lambda a: sum(np.sum(f**3) for f in LA.qr(a)), rect(4, 3)),
    "qr_wide": (lambda a: sum(np.sum(f**3) for f in LA.qr(a)), rect(2, 4)),
    "eigh": (lambda a: sum(np.sum(f**3) for f in LA.eigh(a)), spd(3)),
    "svd": (lambda a: sum(np.sum(f**3) for f in LA.svd(a, full_matrices=False)), rect(4, 3)),
    "norm_2": (lambda a: LA.norm(a, 2), general(3)),
    "norm_fro": (LA.norm, general(3)),
    "norm_p": (lambda a: LA.norm(a.ravel(), 3.5), general(3)),
    "pinv": (lambda a: np.sum(LA.pinv(a) ** 3), rect(4, 3)),
    "lstsq": (
        lambda a: np.sum(LA.lstsq(a, Y6[:4])[0] ** 3) + LA.lstsq(a, Y6[:4])[1][0],
        rect(4, 3),
    ),
    "matrix_power": (lambda a: np.sum(LA.matrix_power(a, -3)), general(3)),
}


@pytest.mark.parametrize("name", sorted(NESTED))
def test_hessians(name):
    f, x = NESTED[name]
    check_hessian(f, x)


def test_third_derivative_of_det_is_exact():
    # det of a 3x3 matrix is cubic: its third derivative along v is 6 det(v)
    a, v = general(3), rng(5).normal(size=(3, 3))

    def along(t):
        return LA.det(a + t * v)

    third = dualdiff.derivative(
        lambda t: dualdiff.derivative(lambda s: dualdiff.derivative(along, s), t), 0.3
    )
    np.testing.assert_allclose(third, 6 * LA.det(v), rtol=1e-10)


# ---------------------------------------------------------------------------------------------
# Determinants of singular matrices
# ---------------------------------------------------------------------------------------------


def adjugate(a):
    n = a.shape[0]
    cof = np.empty_like(a)
    for i in range(n):
        for j in range(n):
            minor = np.delete(np.delete(a, i, 0), j, 1)
            cof[i, j] = (-1) ** (i + j) * LA.det(minor)
    return cof.T


@pytest.mark.parametrize("rank", [0, 1, 2, 3])
def test_det_gradient_is_the_cofactor_matrix(rank):
    r = rng(rank)
    a = r.normal(size=(4, rank)) @ r.normal(size=(rank, 4))
    assert_close(dualdiff.gradient(LA.det, a), adjugate(a).T, 1e-10)


def test_repeated_spectrum_marks_vector_tangents_undefined():
    # eigenvalue 1 is double: its eigenvectors are not unique, so their tangent is not finite;
    # the eigenvalue tangents stay finite (the diagonal of V^T da V)
    a = np.diag([1.0, 1.0, 3.0])
    direction = rng(2).normal(size=(3, 3))
    _, (dw, dv) = dualdiff.jvp(lambda x: tuple(LA.eigh(x)), a, direction)
    assert np.all(np.isfinite(dw)) and not np.all(np.isfinite(dv))
    np.testing.assert_allclose(dw[2], direction[2, 2])
    _, (du, ds, dvh) = dualdiff.jvp(lambda x: tuple(LA.svd(x)), a, direction)
    assert np.all(np.isfinite(ds)) and not np.all(np.isfinite(du))


# ---------------------------------------------------------------------------------------------
# Results, options and errors
# ---------------------------------------------------------------------------------------------


def test_results_keep_numpy_structure():
    x = dualdiff.DualArray(spd(3), np.eye(3))
    w, v = LA.eigh(x)
    assert type(LA.eigh(x)).__name__ == "EighResult" and LA.eigh(x).eigenvectors.shape == (3, 3)
    assert isinstance(w, dualdiff.DualArray) and isinstance(v, dualdiff.DualArray)
    assert isinstance(LA.det(x), dualdiff.Dual)
    assert type(LA.slogdet(x)).__name__ == "SlogdetResult"
    assert type(LA.qr(x)).__name__ == "QRResult" and type(LA.svd(x)).__name__ == "SVDResult"
    solution, residuals, rank, s = LA.lstsq(dualdiff.DualArray(rect(5, 3)), Y6[:5])
    assert type(rank) is not dualdiff.DualArray and rank == 3
    assert residuals.shape == (1,) and s.shape == (3,)
    _, residuals, rank, _ = LA.lstsq(dualdiff.DualArray(rect(3, 3)), B3)
    assert residuals.shape == (0,)
    assert LA.matrix_rank(x) == 3


def test_mixed_tags_treat_the_older_operand_as_constant():
    a, b = general(3), B3

    def outer(x):
        return dualdiff.gradient(lambda y: np.sum(LA.solve(x, y) ** 2), b)

    expected = numeric_jacobian(lambda x: 2 * LA.inv(x).T @ LA.solve(x, b), a)
    assert_close(dualdiff.jacobian(outer, a), expected)


@pytest.mark.parametrize(
    "call",
    [
        lambda x: LA.solve(x * 0.0, B3),
        lambda x: LA.inv(x - x),
        lambda x: LA.cholesky(-x),
        lambda x: LA.tensorsolve(np.stack([x, x]), B3),
        lambda x: LA.matrix_power(x[0], 2),
        lambda x: LA.multi_dot([x, x[None], x]),
    ],
)
def test_linalg_errors_propagate(call):
    with pytest.raises(LA.LinAlgError):
        dualdiff.jacobian(call, spd(3))


@pytest.mark.parametrize(
    "call",
    [LA.svd, LA.svdvals, lambda v: LA.qr(v, mode="complete")],
    ids=["svd", "svdvals", "qr complete"],
)
def test_a_vector_is_numpys_linalg_error_in_every_mode(call):
    # they unpacked the shape first: ValueError (or IndexError) where NumPy raises LinAlgError
    v = np.arange(1.0, 4.0)
    with pytest.raises(LA.LinAlgError):
        call(v)
    with pytest.raises(LA.LinAlgError):
        dualdiff.jvp(call, v, v)
    with pytest.raises(LA.LinAlgError):
        dualdiff.taylor(lambda t: call(v + t), 0.0, 2)


@pytest.mark.parametrize(
    "call",
    [
        lambda x: LA.qr(x, mode="raw"),
        lambda x: LA.qr(x[:, :2], mode="complete"),
        lambda x: LA.svd(x[:, :2]),
        lambda x: LA.norm(x, ord=dualdiff.Dual(2.0, 1.0)),
        lambda x: LA.matrix_power(x, 1.5),
        lambda x: LA.pinv(x, rcond=dualdiff.Dual(1e-3, 1.0)),
    ],
)
def test_unsupported_options_raise_type_error(call):
    with pytest.raises(TypeError):
        dualdiff.jacobian(call, spd(3))


@pytest.mark.parametrize(
    "call",
    [
        lambda x: LA.norm(x, "nuc", axis=0),
        lambda x: LA.norm(x, 3),
        lambda x: LA.norm(x, axis=(0, 0)),
        lambda x: LA.norm(x[None], 1),
        lambda x: LA.eigh(x, UPLO="X"),
        lambda x: LA.qr(x, mode="nonsense"),
    ],
)
def test_invalid_arguments_raise_value_error(call):
    with pytest.raises(ValueError):
        dualdiff.jacobian(call, spd(3))


# -- higher derivatives of det at singular matrices: the cofactor adjugate (exact polynomials) ----


def test_hessian_of_det_at_the_zero_matrix_is_exact():
    # det [[a, b], [c, d]] = ad - bc: its Hessian is constant (the SVD adjugate gave nan here,
    # its derivative being undefined at two zero singular values)
    expected = np.array([[0, 0, 0, 1], [0, 0, -1, 0], [0, -1, 0, 0], [1, 0, 0, 0]], float)
    hessian = dualdiff.hessian(lambda x: np.linalg.det(x.reshape(2, 2)), np.zeros(4))
    np.testing.assert_array_equal(hessian, expected)
    # a cubic's Hessian at 0 is 0
    zero3 = dualdiff.hessian(lambda x: np.linalg.det(x.reshape(3, 3)), np.zeros(9))
    np.testing.assert_array_equal(zero3, np.zeros((9, 9)))


def test_hessian_of_det_at_a_rank_one_matrix_matches_differences_of_the_gradient():
    x = np.outer([1.0, 2.0, 3.0], [1.0, -1.0, 2.0]).ravel()

    def gradient(y):
        return dualdiff.gradient(lambda z: np.linalg.det(z.reshape(3, 3)), y)

    expected = numeric_jacobian(gradient, x)
    hessian = dualdiff.hessian(lambda z: np.linalg.det(z.reshape(3, 3)), x)
    np.testing.assert_allclose(hessian, expected, atol=1e-8)


def test_taylor_series_of_det_through_the_zero_matrix():
    # det(t I + t^2 J) = t^2 (1 + 2t) for the 2x2 all-ones J
    def along(t):
        return np.linalg.det(t * np.eye(2) + t**2 * np.ones((2, 2)))

    assert [dualdiff.derivative(along, 0.0, n=k) for k in (1, 2, 3)] == pytest.approx(
        [0.0, 2.0, 12.0]
    )


# ---------------------------------------------------------------------------------------------
# NumPy's aliasing of results, in every mode
# ---------------------------------------------------------------------------------------------


def _write_through_matrix_power(x):
    y = x * 1.0
    t = LA.matrix_power(y, 1)  # NumPy returns y itself: the write below lands in y
    t[0, 0] = y[1, 1] ** 2
    return y


def test_matrix_power_one_is_its_argument():
    x = general(3)
    reference = numeric_jacobian(_write_through_matrix_power, x)
    assert_close(dualdiff.jacobian(_write_through_matrix_power, x), reference)
    pattern = dualdiff.jacobian_sparsity(_write_through_matrix_power, x).reshape(reference.shape)
    assert not np.any((reference != 0) & ~pattern)
    with pytest.raises(TypeError, match="numpy.linalg.matrix_power returned a view"):
        dualdiff.jit_jacobian(_write_through_matrix_power)(x)


def test_multi_dot_of_two_vector_ends_is_a_numpy_scalar():
    def f(x):
        m = LA.multi_dot([x[0], x, x[:, 1]])
        grown = np.expand_dims(m, 0)  # a new array in NumPy: m is a scalar
        grown *= 2.0
        return m

    x = general(3)
    value, _ = dualdiff.jvp(f, x, x)
    assert type(value) is np.float64 and value == f(x)
    assert_close(dualdiff.jacobian(f, x), numeric_jacobian(f, x))


def test_taylor_series_of_complex_eigenvectors_keeps_lapacks_phase():
    direction = cplx(3, 3, seed=8)
    direction = direction + direction.conj().T

    def line(t):
        return LA.eigh(HERMITIAN + t * direction)[1]

    # second order along the line against differences of the first-order rule
    second = dualdiff.derivative(line, 0.0, n=2)
    h = 1e-5
    reference = (dualdiff.derivative(line, h) - dualdiff.derivative(line, -h)) / (2 * h)
    assert_close(second, reference, 1e-5)


def test_lstsq_singular_values_take_numpys_dtype():
    # NumPy solves a float32 a with a float64 b in float64, its singular values too
    a = rect(4, 3).astype(np.float32)
    b = arr(4, seed=2)

    def f(x):
        return LA.lstsq(x, b)[3]

    value, tangent = dualdiff.jvp(f, a, rect(4, 3, seed=3).astype(np.float32))
    assert value.dtype == tangent.dtype == f(a).dtype == np.float64
    np.testing.assert_allclose(value, f(a), rtol=1e-12)


EMPTY_MATRIX_CALLS = {
    "det": LA.det,  # 1.0, whose series is constant
    "norm 2": lambda a: LA.norm(a, 2),  # NumPy's max over no singular values: 0 (initial=0)
    "norm 1": lambda a: LA.norm(a, 1),
    "norm inf": lambda a: LA.norm(a, np.inf),
    "vector norm inf": lambda a: LA.norm(a[0], np.inf),
    "trace": np.trace,
    "qr": lambda a: LA.qr(a)[1] + 1.0,
}


@pytest.mark.parametrize("name", sorted(EMPTY_MATRIX_CALLS))
def test_empty_matrices_in_every_mode(name):
    f = EMPTY_MATRIX_CALLS[name]
    x = np.zeros((0, 0)) if name != "vector norm inf" else np.zeros((1, 0))
    expected = f(x)
    shape = np.shape(expected) + x.shape
    np.testing.assert_array_equal(dualdiff.jacobian(f, x), np.zeros(shape))
    np.testing.assert_array_equal(dualdiff.jit_jacobian(f)(x), np.zeros(shape))
    value, tangent = dualdiff.jvp(f, x, x)
    np.testing.assert_array_equal(value, expected)
    np.testing.assert_array_equal(tangent, np.zeros(np.shape(expected)))
    np.testing.assert_array_equal(dualdiff.taylor(lambda t: f(x + t), 0.0, 2)[..., 0], expected)
    assert dualdiff.jacobian_sparsity(f, x).shape == (np.size(expected), 0)


def test_eigenvectors_of_a_diagonal_complex_matrix_keep_phase_free_derivatives():
    # LAPACK's real row holds zeros there, so its phase jumps and NumPy's vectors have no
    # derivative; what does not depend on the phase must still have one (not nan)
    h = np.diag([1.0, 2.0, 4.0]).astype(complex)
    e = cplx(3, 3, seed=9)
    e = e + e.conj().T

    def cube(t):
        w, v = LA.eigh(h + t * e)
        return (v * w**3) @ v.conj().T

    exact = e @ h @ h + h @ e @ h + h @ h @ e
    np.testing.assert_allclose(dualdiff.derivative(cube, 0.0), exact, atol=1e-12)
    second = 2 * (e @ e @ h + e @ h @ e + h @ e @ e)
    np.testing.assert_allclose(dualdiff.derivative(cube, 0.0, n=2), second, atol=1e-10)


_B = np.random.default_rng(7).standard_normal((3, 3))
QR_ZERO_PIVOT = {
    "2x2 rank 1": np.array([[1.0, 2.0], [2.0, 4.0]]),
    "3x3, last column dependent": np.column_stack([_B[:, 0], _B[:, 1], _B[:, 0] - 2 * _B[:, 1]]),
    "wide, leading 2x2 singular": np.array([[1.0, 2.0, 0.5], [2.0, 4.0, -1.0]]),
    "batch, one singular": np.stack([np.array([[1.0, 2.0], [2.0, 4.0]]), _B[:2, :2]]),
    "1x1 zero": np.zeros((1, 1)),
    "1x3, leading zero": np.array([[0.0, 1.0, 2.0]]),
}


@pytest.mark.parametrize("case", list(QR_ZERO_PIVOT))
def test_qr_with_a_zero_last_pivot(case):
    # with a zero pivot the rule solved with a singular R: the Q of a singular 2x2 matrix got
    # finite, plausible, wrong tangents (-2 for 0.04 in eager, jit and Taylor mode alike); a
    # real square Q stays differentiable there (its last column is fixed by the others)
    a = QR_ZERO_PIVOT[case]
    e = np.random.default_rng(3).standard_normal(a.shape)
    for part in (0, 1):
        g = lambda t: np.linalg.qr(a + t * e)[part]
        expected = dualdiff.numeric.derivative(g, 0.0, method="central", step=1e-6)
        np.testing.assert_allclose(dualdiff.derivative(g, 0.0), expected, atol=1e-7)
        np.testing.assert_allclose(
            dualdiff.jit_jvp(g)(np.float64(0.0), np.float64(1.0))[1], expected, atol=1e-7
        )
        np.testing.assert_allclose(dualdiff.taylor(g, 0.0, 1)[..., 1], expected, atol=1e-7)


QR_REFUSED = {
    "tall rank 1": np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]]),
    "square, zero middle pivot": np.column_stack([_B[:, 0], 2 * _B[:, 0], _B[:, 2]]),
    "complex, rank 1": np.array([[1.0, 2.0], [2.0, 4.0]]) * (1 + 1j),
}


@pytest.mark.parametrize("case", list(QR_REFUSED))
def test_qr_without_a_derivative_refuses(case):
    # a zero pivot before the last (or any, for a tall or complex matrix) leaves the columns of
    # Q from there on free: no derivative, so an error, never a number
    a = QR_REFUSED[case]
    with pytest.raises(ValueError, match="numpy.linalg.qr"):
        dualdiff.derivative(lambda t: np.linalg.qr(a + t)[0], 0.0)
    with pytest.raises(ValueError, match="numpy.linalg.qr"):
        dualdiff.jit_jvp(lambda t: np.linalg.qr(a + t)[0])(np.float64(0.0), np.float64(1.0))
