"""The acceptance checks of zhang2024 (spec section 7); thresholds are the spec's."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...claims import claim
from . import theory

P = "zhang2024"


def _on(cfg: dict, exp: str, runs: pd.DataFrame | None = None) -> bool:
    e = cfg.get("experiments", {}).get(exp)
    present = runs is None or bool((runs["experiment"] == exp).any())
    return e is not None and e.get("enabled", True) and present


def _sel(df: pd.DataFrame, **kw) -> pd.DataFrame:
    mask = np.ones(len(df), dtype=bool)
    for k, v in kw.items():
        mask &= (df[k] == v).to_numpy()
    return df[mask]


def series(runs: pd.DataFrame, exp: str, point: str, member: int, metric: str):
    """``(step, t, value)`` arrays of one run's metric, sorted by step."""
    d = _sel(runs, experiment=exp, point=point, member=member, metric=metric).sort_values("step")
    t = d["t"].to_numpy() if "t" in d else d["step"].to_numpy()
    return d["step"].to_numpy(), t, d["value"].to_numpy()


def final(runs: pd.DataFrame, exp: str, point: str, member: int, metric: str = "loss") -> float:
    return float(series(runs, exp, point, member, metric)[2][-1])


def members(runs: pd.DataFrame, exp: str, point: str | None = None, **kw) -> pd.DataFrame:
    """One row of labels per member of an experiment (optionally one point / filtered labels)."""
    d = _sel(runs, experiment=exp, metric="loss")
    if point is not None:
        d = _sel(d, point=point)
    d = _sel(d, **kw) if kw else d
    return d.drop_duplicates(["point", "member"])


def saxe_error(runs, bases, exp, point, member) -> float:
    """``max_t |L - L_theory| / L0`` of one run against its own Saxe time course."""
    step, _, loss = series(runs, exp, point, member, "loss")
    th = _sel(bases, experiment=exp, baseline="saxe", point=point, member=member, metric="loss").sort_values("step")
    th = th.set_index("step")["value"].reindex(step).to_numpy()
    return float(np.nanmax(np.abs(loss - th)) / loss[0])


def half_time_sim(runs, exp, point, member, mode: int, s: float) -> float:
    """First time the measured mode strength reaches ``s/2``."""
    _, t, u = series(runs, exp, point, member, f"u_mode{mode}")
    return theory.crossing_time(t, u, s / 2, downward=False)


def _base_scalar(bases, exp, point, member, metric) -> float:
    d = _sel(bases, experiment=exp, baseline="saxe", point=point, member=member, metric=metric)
    return float(d["value"].iloc[0])


def _n_seeds(runs, exp) -> int:
    return int(_sel(runs, experiment=exp)["seed"].nunique())


def _saxe_claims(runs, bases, exp, fit_threshold) -> list[dict]:
    rows, errs, hts = [], [], []
    for r in members(runs, exp, role="relu").itertuples():
        errs.append(saxe_error(runs, bases, exp, r.point, r.member))
        n_modes = len(_sel(bases, experiment=exp, point=r.point, member=r.member, metric="s_mode0"))
        i = 0
        while n_modes:
            sub = _sel(bases, experiment=exp, point=r.point, member=r.member, metric=f"s_mode{i}")
            if sub.empty:
                break
            s = float(sub["value"].iloc[0])
            th = _base_scalar(bases, exp, r.point, r.member, f"half_time_mode{i}")
            hts.append(abs(half_time_sim(runs, exp, r.point, r.member, i, s) / th - 1))
            i += 1
    n = _n_seeds(runs, exp)
    rows.append(
        claim(
            f"{P}.{exp}.saxe_fit",
            "the Saxe closed form from each run's own init tracks the loss of every leaky net",
            "max over runs and t of |L - L_theory| / L0",
            max(errs),
            "<",
            fit_threshold,
            n_seeds=n,
        )
    )
    rows.append(
        claim(
            f"{P}.{exp}.half_time",
            "each mode is half-learned when the closed form says (t_half = ln(s/u0 - 1) / (2 c s))",
            "max over runs and modes of |t_half_sim / t_half_theory - 1|",
            max(hts),
            "<=",
            0.02,
            n_seeds=n,
        )
    )
    return rows


def claims_e0(runs) -> list[dict]:
    d = _sel(runs, experiment="E0")
    v = d[d["metric"].isin(["odd_residual", "even_residual"])]["value"].max()
    return [
        claim(
            f"{P}.E0.odd_even_identity",
            "f(x) - f(-x) = (1+alpha) W2 W1 x and f(x) + f(-x) = (1-alpha) W2 |W1 x| (float64)",
            "max abs residual over both identities, all alpha and x",
            v,
            "<",
            1e-10,
            n_seeds=1,
        )
    ]


def _odd_fit_residual(theta: np.ndarray, f: np.ndarray) -> float:
    n = len(theta)
    fo = 0.5 * (f - np.roll(f, -n // 2))
    x = np.stack([np.cos(theta), np.sin(theta)], 1)
    w, *_ = np.linalg.lstsq(x, fo, rcond=None)
    return float(np.abs(fo - x @ w).max())


def claims_e1(runs) -> list[dict]:
    n = _n_seeds(runs, "E1")
    floor, odd, fit = [], [], []
    for r in members(runs, "E1").itertuples():
        if r.point.startswith("g3_"):
            continue
        ratio = final(runs, "E1", r.point, r.member) / final(runs, "E1", r.point, r.member, "half_y2")
        if r.point == "relu2":
            floor.append(ratio)
            d = _sel(runs, experiment="E1", point="relu2", member=r.member, metric="f").sort_values("coord")
            odd.append(_odd_fit_residual(d["coord"].to_numpy(), d["value"].to_numpy()))
        else:
            fit.append(ratio)
    return [
        claim(
            f"{P}.E1.two_layer_odd_floor",
            "a two-layer bias-free ReLU net cannot beat f = 0 on an odd target orthogonal to linear functions",
            "min over seeds of L_final / (1/2 <y^2>), bias-free 2-layer",
            min(floor),
            ">=",
            0.999,
            n_seeds=n,
        ),
        claim(
            f"{P}.E1.odd_part_linear",
            "the odd part of a trained two-layer bias-free ReLU net is linear",
            "max residual of a least-squares linear fit to f_o on the circle",
            max(odd),
            "<",
            1e-8,
            n_seeds=n,
        ),
        claim(
            f"{P}.E1.deep_and_biased_fit",
            "a 3-layer bias-free net and a biased 2-layer net fit sin(3 theta)",
            "max of L_final / (1/2 <y^2>) over the 3-layer bias-free and 2-layer biased nets",
            max(fit),
            "<",
            0.02,
            n_seeds=n,
        ),
    ]


def _paired_gaps(runs, point) -> dict:
    """``max_t |L_ReLU - L_lin|`` and L0 per (alpha, seed) of an E2 point."""
    out = {}
    for r in members(runs, "E2", point, role="paired").itertuples():
        ref = members(runs, "E2", point, role="linear_ref", alpha=r.alpha, seed=r.seed).iloc[0]
        _, _, lr_ = series(runs, "E2", point, r.member, "loss")
        _, _, ll = series(runs, "E2", point, int(ref["member"]), "loss")
        out[(r.alpha, r.seed)] = (float(np.abs(lr_ - ll).max()), float(lr_[0]))
    return out


def claims_e2(runs) -> list[dict]:
    n = _n_seeds(runs, "E2")
    gaps = _paired_gaps(runs, "sym")
    pair = _sel(runs, experiment="E2", point="sym", metric="pair_err", role="paired")["value"].max()
    rows = [
        claim(
            f"{P}.E2.exact_equivalence",
            "paired ReLU nets follow the width-K linear net sqrt(2c)(U, V) at lr c eta exactly (data with S)",
            "max over alpha, seeds and steps of |L_ReLU - L_lin|",
            max(g for g, _ in gaps.values()),
            "<",
            1e-10,
            n_seeds=n,
        ),
        claim(
            f"{P}.E2.pairing_preserved",
            "GD keeps W1 = [U; -U] and W2 = [V, -V] under S",
            "max over steps of |W1[:K] + W1[K:]| and |W2[:, :K] + W2[:, K:]|",
            pair,
            "<",
            1e-12,
            n_seeds=n,
        ),
    ]
    if not members(runs, "E2", "nosym").empty:
        gaps = _paired_gaps(runs, "nosym")
        rows.append(
            claim(
                f"{P}.E2.symmetry_required",
                "without S the paired ReLU net leaves the linear trajectory",
                "min over alpha and seeds of max_t |L_ReLU - L_lin| / L0, unsymmetrised data",
                min(g / l0 for g, l0 in gaps.values()),
                ">",
                0.01,
                n_seeds=n,
            )
        )
    return rows


def claims_e5(runs, bases) -> list[dict]:
    n = _n_seeds(runs, "E5")
    rows = _saxe_claims(runs, bases, "E5", 0.03)[:1]
    collapse, rescale, floor, shift = [], [], [], []
    for point in _sel(runs, experiment="E5")["point"].unique():
        relu = members(runs, "E5", point, role="relu")
        for r in relu.itertuples():
            s = _base_scalar(bases, "E5", point, r.member, "s_mode0")
            c = float(theory.c_of(r.alpha))
            _, _, loss = series(runs, "E5", point, r.member, "loss")
            one = relu[(relu["alpha"] == 1.0) & (relu["seed"] == r.seed)]
            if not one.empty:
                floor.append(abs(loss[-1] - final(runs, "E5", point, int(one["member"].iloc[0]))) / loss[0])
            ref = members(runs, "E5", point, role="linear_ref", alpha=r.alpha, seed=r.seed)
            if r.alpha < 1 and not ref.empty:
                m_ref = int(ref["member"].iloc[0])
                _, _, l_ref = series(runs, "E5", point, m_ref, "loss")
                collapse.append(float(np.abs(loss - l_ref).max() / loss[0]))
                t_a = half_time_sim(runs, "E5", point, r.member, 0, s)
                t_l = half_time_sim(runs, "E5", point, m_ref, 0, s)
                rescale.append(abs(c * t_a / t_l - 1))
            if r.alpha == 0.0 and not one.empty:
                m1 = int(one["member"].iloc[0])
                ratio = half_time_sim(runs, "E5", point, r.member, 0, s) / half_time_sim(runs, "E5", point, m1, 0, s)
                u0_raw = _base_scalar(bases, "E5", point, m1, "u0_mode0")  # c = 1: the raw draws
                shift.append(abs(ratio / theory.log_shift_ratio(s, u0_raw, c) - 1))
    rows.append(
        claim(
            f"{P}.E5.collapse",
            "L_alpha(t) = L_lin(c t) for the linear net with draws x sqrt(c)",
            "max over alpha < 1 and t of |L_alpha(t) - L_lin,sqrt(c) sigma0(c t)| / L0",
            max(collapse),
            "<",
            0.02,
            n_seeds=n,
        )
    )
    rows.append(
        claim(
            f"{P}.E5.time_rescaling",
            "leaky nets learn 2/(1+alpha) times slower than the sqrt(c)-init linear net",
            "max over alpha of |c t_half(alpha) / t_half(lin, sqrt(c) init) - 1|",
            max(rescale),
            "<=",
            0.01,
            n_seeds=n,
        )
    )
    rows.append(
        claim(
            f"{P}.E5.saxe_fit",
            "the Saxe closed form from each run's own init tracks every alpha",
            "max over alpha of max_t |L - L_theory| / L0",
            rows[0]["value"],
            "<",
            0.03,
            n_seeds=n,
        )
    )
    rows = rows[1:]
    rows.append(
        claim(
            f"{P}.E5.common_floor",
            "all alpha converge to the same floor L*",
            "max over alpha of |L_final(alpha) - L_final(1)| / L0",
            max(floor),
            "<",
            1e-3,
            n_seeds=n,
        )
    )
    if shift:
        rows.append(
            claim(
                f"{P}.E5.raw_init_log_shift",
                "at the same raw init the ReLU/linear half-time ratio is ln(s/(c u0) - 1) / (c ln(s/u0 - 1)), not 2",
                "|r / r_pred - 1|, r = t_half(alpha=0) / t_half(lin) at the same raw init",
                max(shift),
                "<",
                0.01,
                n_seeds=n,
            )
        )
    return rows


def claims_e6(runs, bases, cfg) -> list[dict]:
    n = _n_seeds(runs, "E6")
    rows = []
    dev = {}
    for r in members(runs, "E6", role="relu").itertuples():
        if r.point == "xor":
            continue
        dev.setdefault((r.point, r.alpha), []).append(saxe_error(runs, bases, "E6", r.point, r.member))
    if ("p100", 0.0) in dev:
        rows.append(
            claim(
                f"{P}.E6.relu_deviates_without_symmetry",
                "without S a ReLU net leaves the linear (Saxe) time course",
                "alpha=0, P=100 unsymmetrised: max_t |L - L_theory| / L0 (min over seeds)",
                min(dev[("p100", 0.0)]),
                ">",
                0.1,
                n_seeds=n,
            )
        )
    if ("p100", 1.0) in dev:
        rows.append(
            claim(
                f"{P}.E6.linear_unaffected_without_symmetry",
                "a linear net still follows the Saxe time course without S",
                "alpha=1, P=100 unsymmetrised: max_t |L - L_theory| / L0",
                max(dev[("p100", 1.0)]),
                "<",
                0.05,
                n_seeds=n,
            )
        )
    if ("p10000", 0.0) in dev:
        rows.append(
            claim(
                f"{P}.E6.large_p_recovers",
                "with many samples the empirical asymmetry vanishes and ReLU follows the linear time course",
                "alpha=0, P=1e4 unsymmetrised: max_t |L - L_theory| / L0",
                max(dev[("p10000", 0.0)]),
                "<",
                0.02,
                n_seeds=n,
            )
        )
    xor = members(runs, "E6", "xor")
    if not xor.empty:
        ratios = []
        for _seed, grp in xor.groupby("seed"):
            m0 = int(grp[grp["alpha"] == 0.0]["member"].iloc[0])
            m1 = int(grp[grp["alpha"] == 1.0]["member"].iloc[0])
            ratios.append(final(runs, "E6", "xor", m0) / final(runs, "E6", "xor", m1))
        rows.append(
            claim(
                f"{P}.E6.xor_nonlinear",
                "on asymmetric (XOR + linear) data the ReLU net fits the even part a linear net cannot",
                "max over seeds of L_final(ReLU) / L_final(linear)",
                max(ratios),
                "<",
                0.5,
                n_seeds=n,
            )
        )
    return rows


LEVELS = (5.0, 1.5, 0.3)


def claims_e7(runs) -> list[dict]:
    n = _n_seeds(runs, "E7")
    allm = members(runs, "E7")
    conv, test_err, even, rank1, rank2, order_ok, slower, paired_dev, ab = [], [], [], [], [], [], [], [], []
    for r in allm.itertuples():
        last = lambda metric: final(runs, "E7", r.point, r.member, metric)  # noqa: E731,B023
        if r.role in ("relu", "linear"):
            _, _, loss = series(runs, "E7", r.point, r.member, "loss")
            conv.append(loss[-1] / loss[0])
        if r.role == "relu":
            test_err.append(last("test_rel_error"))
            even.append(last("even_over_odd"))
            if r.point.endswith("_r1"):
                sv1 = _sel(runs, experiment="E7", point=r.point, member=r.member, metric="sv_layer1")[
                    "value"
                ].to_numpy()
                rank1.append(sv1[1] / sv1[0])
                for li in range(2, int(r.depth)):
                    sv = _sel(runs, experiment="E7", point=r.point, member=r.member, metric=f"sv_layer{li}")
                    sv = sv["value"].to_numpy()
                    rank2.append(sv[2] / sv[0])
        if r.role == "paired":
            paired_dev.append(last("paired_structure_dev"))
            for li in range(2, int(r.depth)):
                ab.append(last(f"a_plus_b_layer{li}"))
    for point in sorted(p for p in allm["point"].unique() if p.endswith("_r3")):
        times = {}
        for r in members(runs, "E7", point).itertuples():
            _, t, loss = series(runs, "E7", point, r.member, "loss")
            ts = [theory.crossing_time(t, loss, lv) for lv in LEVELS]
            times[(r.role, r.seed)] = ts
            order_ok.append(bool(np.all(np.isfinite(ts)) and np.all(np.diff(ts) > 0)))
        for (role, seed), ts in times.items():
            if role == "relu" and ("linear", seed) in times:
                slower.append(min(a / b for a, b in zip(ts, times[("linear", seed)])))
    rows = [
        claim(
            f"{P}.E7.converges",
            "deep ReLU and deep linear nets reach zero training loss",
            "max over nets of L_final / L0",
            max(conv),
            "<",
            1e-3,
            n_seeds=n,
        ),
        claim(
            f"{P}.E7.linear_off_train",
            "the deep ReLU net learns the linear teacher off the training set",
            "max over ReLU nets of ||f - W_t x||^2 / ||W_t x||^2 on Gaussian test points",
            max(test_err),
            "<",
            0.02,
            n_seeds=n,
        ),
        claim(
            f"{P}.E7.even_part_small",
            "the deep ReLU function is almost odd (hence almost linear)",
            "max over ReLU nets of ||f_e|| / ||f_o|| on test points",
            max(even),
            "<",
            0.02,
            n_seeds=n,
        ),
    ]
    if rank1:
        rows.append(
            claim(
                f"{P}.E7.first_layer_rank1",
                "the first ReLU layer is rank 1 for a rank-1 teacher",
                "max over depths of s2/s1 of W1",
                max(rank1),
                "<",
                0.15,
                n_seeds=n,
            )
        )
        rows.append(
            claim(
                f"{P}.E7.intermediate_rank2",
                "intermediate ReLU layers are (at most) rank 2, one pathway per half-space",
                "max over intermediate layers of s3/s1",
                max(rank2),
                "<",
                0.3,
                n_seeds=n,
            )
        )
    if order_ok:
        rows.append(
            claim(
                f"{P}.E7.saddle_to_saddle",
                "with a rank-3 teacher both nets learn in stages (L crosses 5.0, 1.5, 0.3 in order)",
                "1 if every net crosses the three levels in order, else 0",
                float(all(order_ok)),
                "==",
                1.0,
                n_seeds=n,
            )
        )
        rows.append(
            claim(
                f"{P}.E7.relu_slower",
                "deep ReLU nets learn each stage more slowly than deep linear nets",
                "min over stages and depths of t_ReLU / t_lin",
                min(slower) if slower else np.nan,
                ">",
                1.5,
                n_seeds=n,
            )
        )
    if paired_dev:
        rows.append(
            claim(
                f"{P}.E7.paired_structure_invariant",
                "the paired deep structure [U; -U], [[A, B], [B, A]], [V, -V] is invariant under GD",
                "max deviation from the paired structure after training",
                max(paired_dev),
                "<",
                1e-10,
                n_seeds=n,
            )
        )
    if ab:
        rows.append(
            claim(
                f"{P}.E7.no_exact_deep_map",
                "(optional) B = -A is not invariant: no exact map to deep linear nets at depth >= 3",
                "min over middle layers and depths of ||A + B|| / ||W_mid|| after training from B = -A",
                min(ab),
                ">",
                0.05,
                n_seeds=n,
            )
        )
    return rows


def claims(runs: pd.DataFrame, baselines: pd.DataFrame, cfg: dict) -> list[dict]:
    """Every claim of spec section 7 whose experiment is enabled."""
    out = []
    if _on(cfg, "E0", runs):
        out += claims_e0(runs)
    if _on(cfg, "E1", runs):
        out += claims_e1(runs)
    if _on(cfg, "E2", runs):
        out += claims_e2(runs)
    if _on(cfg, "E3", runs):
        out += _saxe_claims(runs, baselines, "E3", 0.05)
    if _on(cfg, "E4", runs):
        out += _saxe_claims(runs, baselines, "E4", 0.05)
    if _on(cfg, "E5", runs):
        out += claims_e5(runs, baselines)
    if _on(cfg, "E6", runs):
        out += claims_e6(runs, baselines, cfg)
    if _on(cfg, "E7", runs):
        out += claims_e7(runs)
    return out
