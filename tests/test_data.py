"""Unit tests of relurepro.data: image sets, MNIST-1D, the IDX reader, random frames and ``make``."""

import gzip
import random

import numpy as np
import pytest

from relurepro import data


def test_old_loaders_still_importable():
    for name in ("digits_pair", "mnist_pair", "templates", "gaussian_sign"):
        assert callable(getattr(data, name))
    d = data.gaussian_sign(5, 20, 10, 0)
    assert d["x_train"].shape == (20, 5) and set(np.unique(d["y_test"])) <= {-1.0, 1.0}


def test_pool2x2_hand_values():
    img = np.arange(16.0).reshape(1, 16)  # 4x4: rows 0..3 of [4r, 4r+1, 4r+2, 4r+3]
    assert data.pool2x2(img, 4).tolist() == [[2.5, 4.5, 10.5, 12.5]]
    with pytest.raises(ValueError, match="even side"):
        data.pool2x2(np.zeros((1, 9)), 3)


def test_digits_all_classes_stratified():
    d = data.image_classes("digits", seed=0, train_size=0.7)
    assert d["x_train"].shape == (1257, 64) and d["x_test"].shape == (540, 64)
    assert d["x_train"].dtype == np.float64 and d["y_train"].dtype == np.int64
    assert set(np.unique(d["y_test"])) == set(range(10))
    assert 0.0 <= d["x_train"].min() and d["x_train"].max() <= 1.0
    frac = np.bincount(d["y_train"]) / np.bincount(np.concatenate([d["y_train"], d["y_test"]]))
    assert np.abs(frac - 0.7).max() < 0.01
    again = data.image_classes("digits", seed=0, train_size=0.7)
    other = data.image_classes("digits", seed=1, train_size=0.7)
    assert np.array_equal(d["x_train"], again["x_train"]) and not np.array_equal(d["y_train"], other["y_train"])


def test_class_subset_relabels():
    d = data.image_classes("digits", seed=0, train_size=100, classes=[7, 2, 9])
    assert d["x_train"].shape[0] == 100
    assert set(np.unique(d["y_train"])) == {0, 1, 2}
    raw = data.image_classes("digits", seed=0, train_size=100, classes=[7, 2, 9], relabel=False)
    assert set(np.unique(raw["y_test"])) == {2, 7, 9}
    assert np.array_equal(np.array([2, 7, 9])[d["y_test"]], raw["y_test"])
    with pytest.raises(ValueError, match="missing \\[11\\]"):
        data.image_classes("digits", seed=0, classes=[1, 11])
    with pytest.raises(ValueError, match="unknown image source"):
        data.image_classes("cifar", seed=0)


def test_mnist5k_28_and_14():
    d28 = data.image_classes("mnist5k", seed=0, train_size=4000)
    d14 = data.image_classes("mnist5k_14", seed=0, train_size=4000)
    assert d28["x_train"].shape == (4000, 784) and d28["x_test"].shape == (1000, 784)
    assert d14["x_train"].shape == (4000, 196)
    assert np.bincount(d28["y_test"]).tolist() == [100] * 10
    # Same split and order: the 14 px images are the pooled 28 px ones.
    assert np.array_equal(d28["y_train"], d14["y_train"])
    np.testing.assert_allclose(data.pool2x2(d28["x_train"][:50], 28), d14["x_train"][:50])
    assert d28["x_train"].max() <= 1.0 and d28["x_train"].max() > 0.99
    x, _ = data.load_source("mnist5k")
    with pytest.raises(ValueError):
        x[0, 0] = 1.0  # the cached source is read-only


def test_mnist1d_offline_generator(monkeypatch):
    import mnist1d.data

    def no_network(*args, **kwargs):
        raise AssertionError("mnist1d must not download")

    monkeypatch.setattr(mnist1d.data.requests, "get", no_network)
    monkeypatch.setattr(mnist1d.data, "get_dataset", no_network)
    np.random.seed(123)
    random.seed(123)
    np_before, py_before = np.random.random(), random.random()
    np.random.seed(123)
    random.seed(123)
    d = data.mnist1d(seed=0, num_samples=1000)
    assert np.random.random() == np_before and random.random() == py_before  # global RNGs restored
    assert d["x_train"].shape == (800, 40) and d["x_test"].shape == (200, 40)
    assert d["x_train"].dtype == np.float64 and d["y_train"].dtype == np.int64
    assert set(np.unique(d["y_train"])) == set(range(10))
    again, other = data.mnist1d(seed=0, num_samples=1000), data.mnist1d(seed=1, num_samples=1000)
    assert np.array_equal(d["x_train"], again["x_train"]) and not np.array_equal(d["x_train"], other["x_train"])
    with pytest.raises(ValueError, match="url"):
        data.mnist1d(url="http://example.com")


def test_mnist1d_default_size():
    d = data.mnist1d()
    assert d["x_train"].shape == (4000, 40) and d["x_test"].shape == (1000, 40)


# ----- IDX -----


def _header(code, shape):
    return bytes([0, 0, code, len(shape)]) + np.asarray(shape, dtype=">u4").tobytes()


def _mnist_folder(tmp_path, n_train=12, n_test=5, side=4, gz=True, rng=0):
    rng = np.random.default_rng(rng)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        suffix = ".gz" if gz else ""
        data.write_idx(
            tmp_path / f"{prefix}-images-idx3-ubyte{suffix}", rng.integers(0, 256, (n, side, side), np.uint8)
        )
        data.write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte{suffix}", rng.integers(0, 10, n).astype(np.uint8))
    return tmp_path


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, dtype, suffix):
    arr = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype) if dtype != np.uint8 else np.arange(24, dtype=dtype)
    path = data.write_idx(tmp_path / f"a.idx{suffix}", arr)
    back = data.read_idx(path)
    assert back.dtype == np.dtype(dtype) and np.array_equal(back, arr)
    if suffix:
        assert path.read_bytes()[:2] == b"\x1f\x8b"


def test_idx_header_is_big_endian(tmp_path):
    path = data.write_idx(tmp_path / "l", np.array([3, 1, 4], dtype=np.uint8))
    assert path.read_bytes() == bytes([0, 0, 8, 1, 0, 0, 0, 3, 3, 1, 4])
    path = data.write_idx(tmp_path / "i", np.array([[1, 258]], dtype=np.int16))
    assert path.read_bytes() == bytes([0, 0, 0x0B, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 1, 2])


def test_idx_dataset_loads_a_folder(tmp_path):
    folder = _mnist_folder(tmp_path)
    d = data.idx_dataset(folder)
    assert d["x_train"].shape == (12, 16) and d["x_test"].shape == (5, 16)
    assert d["x_train"].dtype == np.float64 and d["y_train"].dtype == np.int64
    raw = data.read_idx(folder / "train-images-idx3-ubyte.gz")
    np.testing.assert_allclose(d["x_train"], raw.reshape(12, 16) / 255.0)
    assert np.array_equal(d["y_test"], data.read_idx(folder / "t10k-labels-idx1-ubyte.gz"))
    plain = data.idx_dataset(_mnist_folder(tmp_path / "plain", gz=False))
    assert plain["x_train"].shape == (12, 16)


def _write_raw(path, raw):
    path.write_bytes(raw)
    return path


BAD_FILES = {
    "bad_magic_prefix": (b"\x01\x00\x08\x01" + b"\x00\x00\x00\x01" + b"\x05", "bad magic"),
    "bad_dtype_code": (b"\x00\x00\x07\x01" + b"\x00\x00\x00\x01" + b"\x05", "bad magic"),
    "zero_ndim": (b"\x00\x00\x08\x00", "ndim is 0"),
    "short_header": (b"\x00\x00", "truncated header"),
    "missing_sizes": (b"\x00\x00\x08\x03" + b"\x00\x00\x00\x02", "truncated header"),
    "truncated_data": (_header(8, (2, 2, 2)) + bytes(7), "truncated"),
    "trailing_bytes": (_header(8, (3,)) + bytes(4), "trailing bytes"),
    "corrupt_gzip": (b"\x1f\x8b" + b"not really gzip", "corrupt gzip"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_idx_bad_files_name_the_file_and_problem(tmp_path, name):
    raw, message = BAD_FILES[name]
    path = _write_raw(tmp_path / f"{name}-ubyte", raw)
    with pytest.raises(ValueError, match=message) as err:
        data.read_idx(path)
    assert name in str(err.value)


def test_idx_truncated_inside_gzip(tmp_path):
    path = _write_raw(tmp_path / "cut-ubyte.gz", gzip.compress(_header(8, (2, 3, 3)) + bytes(10)))
    with pytest.raises(ValueError, match="cut-ubyte.gz: file truncated"):
        data.read_idx(path)


def test_idx_pair_checks(tmp_path):
    img = data.write_idx(tmp_path / "img", np.zeros((4, 2, 2), np.uint8))
    lab = data.write_idx(tmp_path / "lab", np.array([0, 1, 2], np.uint8))
    with pytest.raises(ValueError, match="holds 4 images but .*lab holds 3 labels"):
        data.read_idx_pair(img, lab)
    lab = data.write_idx(tmp_path / "lab10", np.array([0, 1, 2, 10], np.uint8))
    with pytest.raises(ValueError, match="lab10: label 10 out of range"):
        data.read_idx_pair(img, lab)
    assert data.read_idx_pair(img, lab, n_classes=11)[1].tolist() == [0, 1, 2, 10]
    with pytest.raises(ValueError, match="lab10: expected uint8 images of 3 dimensions"):
        data.read_idx_pair(lab, lab)
    wide = data.write_idx(tmp_path / "wide", np.zeros(4, np.int32))
    with pytest.raises(ValueError, match="wide: expected uint8 labels"):
        data.read_idx_pair(img, wide)


def test_idx_dataset_missing_and_mismatched(tmp_path):
    with pytest.raises(FileNotFoundError, match="IDX folder not found"):
        data.idx_dataset(tmp_path / "nowhere")
    folder = _mnist_folder(tmp_path / "m")
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        data.idx_dataset(folder)
    with pytest.raises(FileNotFoundError, match="IDX file not found"):
        data.read_idx(tmp_path / "none-ubyte")
    folder = _mnist_folder(tmp_path / "sizes")
    data.write_idx(folder / "t10k-images-idx3-ubyte.gz", np.zeros((5, 3, 3), np.uint8))
    with pytest.raises(ValueError, match="images of \\(4, 4\\) but .*t10k-images-idx3-ubyte.gz of \\(3, 3\\)"):
        data.idx_dataset(folder)


def test_write_idx_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(ValueError, match="cannot write dtype int64"):
        data.write_idx(tmp_path / "x", np.zeros(3, np.int64))


# ----- frames -----


def test_orthonormal_frame():
    q = data.orthonormal_frame(10, 3, seed=0)
    assert q.shape == (10, 3)
    np.testing.assert_allclose(q.T @ q, np.eye(3), atol=1e-12)
    assert np.array_equal(q, data.orthonormal_frame(10, 3, seed=0))
    assert not np.allclose(q, data.orthonormal_frame(10, 3, seed=1))
    with pytest.raises(ValueError, match="0 < k <= n"):
        data.orthonormal_frame(3, 4, seed=0)


def test_orthonormal_frame_is_haar():
    # Plain QR leaves E[Q_00] near -0.5; Haar needs 0 (and E[Q_00^2] = 1/n).
    q00 = np.array([data.orthonormal_frame(3, 3, s)[0, 0] for s in range(2000)])
    assert abs(q00.mean()) < 0.06
    assert abs((q00**2).mean() - 1 / 3) < 0.03


def test_random_rotation_and_samplers():
    r = data.random_rotation(5, seed=3, proper=True)
    np.testing.assert_allclose(r @ r.T, np.eye(5), atol=1e-12)
    assert np.linalg.det(r) == pytest.approx(1.0)
    dets = [np.linalg.det(data.random_rotation(4, s)) for s in range(40)]
    assert min(dets) == pytest.approx(-1.0) and max(dets) == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    s = data.uniform_sphere(500, 4, rng)
    np.testing.assert_allclose(np.linalg.norm(s, axis=1), 1.0)
    b = data.uniform_ball(20_000, 3, 0.5, seed=1)
    radii = np.linalg.norm(b, axis=1)
    assert radii.max() <= 0.5
    assert abs((radii <= 0.25).mean() - 0.125) < 0.01  # P(r <= R/2) = 2^-3 in 3-D
    assert np.abs(b.mean(axis=0)).max() < 0.01


# ----- make -----


def test_make_dispatches_each_kind(tmp_path):
    pair = data.make({"kind": "digits_pair", "a": 0, "b": 1, "n_train": 64, "seed": 0})
    assert np.array_equal(pair["x_train"], data.digits_pair(0, 1, 64, 0)["x_train"])
    img = data.make({"kind": "images", "source": "digits", "seed": 2, "train_size": 0.5, "classes": [0, 1, 2]})
    assert set(np.unique(img["y_train"])) == {0, 1, 2}
    tpl = data.make({"kind": "templates", "d": 8, "n_train": 10, "n_test": 5, "noise": 0.1, "seed": 0})
    assert tpl["x_test"].shape == (5, 8)
    idx = data.make({"kind": "idx", "folder": str(_mnist_folder(tmp_path))})
    assert idx["x_test"].shape == (5, 16)
    m1 = data.make({"kind": "mnist1d", "seed": 3, "num_samples": 200, "shear_scale": 0.5})
    assert m1["x_train"].shape == (160, 40)
    assert set(data.KINDS) == {"digits_pair", "mnist_pair", "templates", "gaussian_sign", "images", "mnist1d", "idx"}


def test_make_errors_name_the_problem():
    with pytest.raises(ValueError, match="unknown data kind 'cifar10'"):
        data.make({"kind": "cifar10"})
    with pytest.raises(ValueError, match="has no 'kind'"):
        data.make({"seed": 0})
    with pytest.raises(ValueError, match="'images': unknown keys \\['sead'\\]"):
        data.make({"kind": "images", "source": "digits", "sead": 0})
    with pytest.raises(ValueError, match="'digits_pair': missing keys \\['n_train', 'seed'\\]"):
        data.make({"kind": "digits_pair", "a": 0, "b": 1})
