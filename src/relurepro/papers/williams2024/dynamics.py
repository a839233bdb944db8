"""Offline, seeded data of the recurrent experiments: cosine, van der Pol, Lorenz, centre-out reaching.

Every builder returns a dict of numpy arrays (the form the data rule stores as ``.npz``). The
point-mass plant of the reaching task is here too, in torch (it sits inside the loss).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def rk4(f: Callable[[np.ndarray], np.ndarray], x0, dt: float, steps: int) -> np.ndarray:
    """Classical Runge-Kutta of ``dx/dt = f(x)``: the states ``[steps + 1, d]``, ``x0`` first."""
    x = np.asarray(x0, dtype=float)
    out = np.empty((steps + 1, x.size))
    out[0] = x
    for i in range(steps):
        k1 = f(x)
        k2 = f(x + 0.5 * dt * k1)
        k3 = f(x + 0.5 * dt * k2)
        k4 = f(x + dt * k3)
        x = x + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        out[i + 1] = x
    return out


def zscore(x: np.ndarray) -> np.ndarray:
    """Each column shifted to mean 0 and scaled to std 1."""
    return (x - x.mean(0)) / x.std(0)


# ---------------------------------------------------------------- cosine (Fig 3A/B)


def cosine(steps: int, period: float) -> dict:
    """Target ``y_t = cos(2 pi t / period)`` for t = 1..steps, ``[steps, 1]``."""
    t = np.arange(1, steps + 1, dtype=float)
    return {"t": t, "y": np.cos(2 * np.pi * t / period)[:, None]}


# ---------------------------------------------------------------- van der Pol (Fig 3C/D)


def van_der_pol_field(mu: float) -> Callable[[np.ndarray], np.ndarray]:
    """``x' = v, v' = mu (1 - x^2) v - x``."""
    return lambda s: np.array([s[1], mu * (1.0 - s[0] ** 2) * s[1] - s[0]])


def van_der_pol(mu: float, dt: float, steps: int, transient: int, substeps: int) -> dict:
    """The limit cycle sampled every ``dt``: ``y`` ``[steps, 2]`` (x, v), each z-scored.

    Integrated by RK4 at ``dt / substeps`` from (0.5, 0) after ``transient`` samples are dropped;
    ``raw`` keeps the unscaled states (x oscillates with amplitude about 2 for mu = 1).
    """
    h = dt / substeps
    path = rk4(van_der_pol_field(mu), [0.5, 0.0], h, (transient + steps) * substeps)[::substeps][transient + 1 :]
    return {"t": dt * np.arange(1, steps + 1), "y": zscore(path), "raw": path}


# ---------------------------------------------------------------- Lorenz (Fig 4)


def lorenz_field(sigma: float, rho: float, beta: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda s: np.array([sigma * (s[1] - s[0]), s[0] * (rho - s[2]) - s[1], s[0] * s[1] - beta * s[2]])


def autocorrelation(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Sample autocorrelation of a 1-D series at lags 0..max_lag (FFT, biased estimator)."""
    x = np.asarray(x, dtype=float) - np.mean(x)
    n = len(x)
    spec = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(spec * np.conj(spec))[: max_lag + 1]
    return acf / acf[0]


def hwhm_lag(acf: np.ndarray) -> int:
    """The half-width-at-half-maximum lag: the first lag where the autocorrelation is <= 1/2."""
    below = np.flatnonzero(acf <= 0.5)
    if not len(below):
        raise ValueError(f"the autocorrelation stays above 1/2 up to lag {len(acf) - 1}; raise max_lag")
    return int(below[0])


def lorenz(
    sigma: float,
    rho: float,
    beta: float,
    dt: float,
    transient: int,
    samples: int,
    window: int,
    train_fraction: float,
    max_lag: int,
) -> dict:
    """The x coordinate of Lorenz, z-scored and subsampled at its HWHM lag tau, cut into windows.

    RK4 at ``dt`` from (1, 1, 1); the first ``transient`` steps are dropped. ``samples`` subsampled
    points are kept, the first ``train_fraction`` for training. Windows of ``window + 1`` points
    (input the first ``window``, target the next sample) start every ``window // 2`` points.
    """
    field = lorenz_field(sigma, rho, beta)
    start = rk4(field, [1.0, 1.0, 1.0], dt, transient)[-1]
    probe = rk4(field, start, dt, 20 * max_lag)[1:, 0]
    acf = autocorrelation(probe, max_lag)
    tau = hwhm_lag(acf)
    x = rk4(field, start, dt, samples * tau)[1::tau, 0][:samples]
    mean, std = probe.mean(), probe.std()
    x = (x - mean) / std
    n_train = int(round(train_fraction * samples))

    def windows(series):
        starts = np.arange(0, len(series) - window - 1, max(1, window // 2))
        return np.stack([series[s : s + window + 1] for s in starts])

    return {
        "x": x,
        "acf": acf,
        "tau": np.array(tau),
        "dt": np.array(dt),
        "n_train": np.array(n_train),
        "train": windows(x[:n_train]),
        "test": windows(x[n_train:]),
    }


# ---------------------------------------------------------------- centre-out reaching (motor task)


def min_jerk(s: np.ndarray) -> np.ndarray:
    """The minimum-jerk profile 10 s^3 - 15 s^4 + 6 s^5 on s in [0, 1] (clipped outside)."""
    s = np.clip(s, 0.0, 1.0)
    return 10 * s**3 - 15 * s**4 + 6 * s**5


def reach(steps: int, go: int, move: int, radius: float, n_targets: int) -> dict:
    """Centre-out reaching: inputs, desired paths and targets for train and held-out angles.

    ``n_targets`` training angles 2 pi k / n and as many held-out ones halfway between them.
    Inputs ``[steps, n, 3]``: the target direction (cos, sin) throughout and a go cue from step
    ``go``; the desired path stays at the origin until ``go``, then follows a minimum-jerk
    profile to the target in ``move`` steps and holds.
    """
    if go + move >= steps:
        raise ValueError(f"reach: go ({go}) + move ({move}) must end before the last step ({steps})")
    t = np.arange(steps)
    profile = min_jerk((t - go) / move)
    out = {"radius": np.array(radius), "t": t.astype(float)}
    for split, offset in (("train", 0.0), ("heldout", np.pi / n_targets)):
        angle = 2 * np.pi * np.arange(n_targets) / n_targets + offset
        direction = np.stack([np.cos(angle), np.sin(angle)], 1)  # [n, 2]
        cue = (t >= go).astype(float)
        u = np.concatenate(
            [
                np.broadcast_to(direction, (steps, n_targets, 2)),
                np.broadcast_to(cue[:, None, None], (steps, n_targets, 1)),
            ],
            2,
        )
        out[f"{split}_angle"] = angle
        out[f"{split}_u"] = u
        out[f"{split}_path"] = radius * profile[:, None, None] * direction[None]
        out[f"{split}_target"] = radius * direction
    return out


def plant_matrices(steps: int, mass: float, damping: float, dt: float):
    """Lower-triangular ``(Mv, Mp)`` ``[steps, steps]`` with ``v = Mv @ F`` and ``p = Mp @ F`` for the point mass.

    Semi-implicit Euler from rest at the origin: ``v_t = (1 - dt k / m) v_{t-1} + (dt / m) F_t``,
    ``p_t = p_{t-1} + dt v_t``.
    """
    decay = 1.0 - dt * damping / mass
    if not 0.0 < decay <= 1.0:
        raise ValueError(f"plant: 1 - dt * damping / mass = {decay:g} must lie in (0, 1]")
    lag = np.subtract.outer(np.arange(steps), np.arange(steps))
    mv = np.where(lag >= 0, decay ** np.maximum(lag, 0), 0.0) * (dt / mass)
    mp = dt * np.cumsum(mv, axis=0)
    return mv, mp


def plant(force, mv, mp):
    """Velocity and position ``[T, ...]`` of the point mass driven by ``force`` ``[T, ..., 2]`` (time first)."""
    import torch

    return torch.einsum("st,t...->s...", mv, force), torch.einsum("st,t...->s...", mp, force)


BUILDERS = {"cosine": cosine, "van_der_pol": van_der_pol, "lorenz": lorenz, "reach": reach}
