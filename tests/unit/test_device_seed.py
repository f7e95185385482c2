import pytest
import torch

from dlbook import available_devices, get_device, set_seed


def test_cpu_is_always_available():
    assert available_devices()[-1] == "cpu"
    assert get_device("cpu") == torch.device("cpu")


def test_auto_picks_the_best_available(monkeypatch):
    monkeypatch.delenv("DLBOOK_DEVICE", raising=False)
    assert get_device() == torch.device(available_devices()[0])
    assert get_device("auto") == get_device()


def test_environment_variable_overrides(monkeypatch):
    monkeypatch.setenv("DLBOOK_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")


def test_explicit_name_beats_environment(monkeypatch):
    monkeypatch.setenv("DLBOOK_DEVICE", "nonsense")
    assert get_device("CPU") == torch.device("cpu")


def test_a_torch_device_is_accepted():
    assert get_device(torch.device("cpu")) == torch.device("cpu")


@pytest.mark.parametrize("name", ["gpu", "cuda:x", "cpu:3"])
def test_a_bad_device_name_is_an_error(name):
    with pytest.raises(RuntimeError, match=name):  # torch's message, or ours
        get_device(name)


def test_bad_environment_value_is_reported(monkeypatch):
    monkeypatch.setenv("DLBOOK_DEVICE", "gpu")
    with pytest.raises(RuntimeError, match="gpu"):
        get_device()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_unavailable_device_is_a_clear_error():
    with pytest.raises(RuntimeError, match="'cuda' was asked for but is not available"):
        get_device("cuda")


def test_set_seed_makes_draws_repeat():
    set_seed(123)
    a = (
        torch.rand(3),
        __import__("numpy").random.rand(),
        __import__("random").random(),
    )
    set_seed(123)
    b = (
        torch.rand(3),
        __import__("numpy").random.rand(),
        __import__("random").random(),
    )
    torch.testing.assert_close(a[0], b[0])
    assert a[1:] == b[1:]


def test_set_seed_returns_a_seeded_generator():
    g1, g2 = set_seed(7), set_seed(7)
    torch.testing.assert_close(torch.rand(2, generator=g1), torch.rand(2, generator=g2))


@pytest.fixture
def no_cublas_setting(monkeypatch):
    """CUBLAS_WORKSPACE_CONFIG unset, and restored to its old state afterwards
    (set_seed(deterministic=True) sets it in os.environ)."""
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", "")  # recorded for the restore
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG")


def test_set_seed_deterministic_switches_algorithms(no_cublas_setting):
    set_seed(0, deterministic=True)
    try:
        assert torch.are_deterministic_algorithms_enabled()
    finally:
        set_seed(0)
    assert not torch.are_deterministic_algorithms_enabled()


def test_deterministic_after_cuda_started_warns(no_cublas_setting, monkeypatch):
    # PyTorch reads CUBLAS_WORKSPACE_CONFIG at the first GPU matrix product:
    # setting it once CUDA runs may be too late, and the reader should know.
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    try:
        with pytest.warns(UserWarning, match="CUBLAS_WORKSPACE_CONFIG comes too late"):
            set_seed(0, deterministic=True)
    finally:
        set_seed(0)


def test_deterministic_with_cublas_setting_in_place_is_quiet(monkeypatch, recwarn):
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    try:
        set_seed(0, deterministic=True)
    finally:
        set_seed(0)
    assert not [w for w in recwarn if "CUBLAS" in str(w.message)]


@pytest.mark.parametrize("seed", [-1, 2**32])
def test_set_seed_rejects_out_of_range(seed):
    with pytest.raises(ValueError, match=r"seed must be in \[0, 2\*\*32\)"):
        set_seed(seed)


@pytest.mark.parametrize("seed", [1.5, "0", True, None])
def test_set_seed_rejects_non_integers(seed):
    with pytest.raises(TypeError, match="seed must be an int"):
        set_seed(seed)


def test_importing_dlbook_has_no_side_effects():
    import subprocess
    import sys

    code = (
        "import torch; torch.manual_seed(5); a = torch.rand(1);"
        "n = torch.get_num_threads(); torch.manual_seed(5);"
        "import dlbook, dlbook.explore, dlbook.checkpoint; b = torch.rand(1);"
        "assert torch.equal(a, b), 'import drew random numbers';"
        "assert torch.get_num_threads() == n, 'import changed the thread count';"
        "assert not torch.are_deterministic_algorithms_enabled()"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_seed_shift_draws_another_sample(monkeypatch):
    monkeypatch.delenv("DLBOOK_SEED_SHIFT", raising=False)
    set_seed(5)
    plain = torch.rand(3)
    monkeypatch.setenv("DLBOOK_SEED_SHIFT", "2")
    set_seed(3)
    assert torch.equal(torch.rand(3), plain)  # 3 + 2 is seed 5
    assert set_seed(3).initial_seed() == 5
    set_seed(5)
    assert not torch.equal(torch.rand(3), plain)


def test_seed_shift_must_be_an_integer(monkeypatch):
    monkeypatch.setenv("DLBOOK_SEED_SHIFT", "one")
    with pytest.raises(ValueError, match="DLBOOK_SEED_SHIFT='one' is not an integer"):
        set_seed(0)


def test_seed_shift_reaches_the_loaders_shuffling(monkeypatch):
    from dlbook import make_loaders

    X = torch.arange(20.0)[:, None]

    def order():
        (loader,) = make_loaders((X, X), batch_size=20, seed=3)
        return next(iter(loader))[0].flatten().tolist()

    monkeypatch.delenv("DLBOOK_SEED_SHIFT", raising=False)
    plain = order()
    assert order() == plain  # reproducible
    monkeypatch.setenv("DLBOOK_SEED_SHIFT", "1")
    assert order() != plain  # another draw of the batch order
