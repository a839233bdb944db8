"""Acceptance checks of spec §12; thresholds and directions exactly as the spec states them."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...claims import claim

P = "meltzer2023"


def summary(runs: pd.DataFrame, experiment: str) -> pd.DataFrame:
    """One row per member: labels plus the final summary metrics as columns."""
    r = runs[runs["experiment"] == experiment]
    if r.empty:
        return pd.DataFrame()
    labels = [
        c
        for c in (
            "point",
            "member",
            "seed",
            "eta_lambda0",
            "lr",
            "lambda0",
            "mean_sq_weight0",
            "slope",
            "width",
            "depth",
            "dataset",
            "diverged",
            "diverged_step",
        )
        if c in r.columns
    ]
    final = r[r["step"] == r.groupby(["point", "member"])["step"].transform("max")]
    wide = final.pivot_table(index=["point", "member"], columns="metric", values="value", aggfunc="last", dropna=False)
    lab = r.drop_duplicates(["point", "member"])[labels].set_index(["point", "member"])
    out = lab.join(wide).reset_index()
    out["eta_lambda0"] = out["eta_lambda0"].round(6)
    return out


def _max(x) -> float:
    x = np.asarray(x, dtype=float)
    return float(np.max(x)) if x.size else math.nan


def _min(x) -> float:
    x = np.asarray(x, dtype=float)
    return float(np.min(x)) if x.size else math.nan


def _frac(mask) -> float:
    mask = np.asarray(mask, dtype=bool)
    return float(mask.mean()) if mask.size else math.nan


def _spearman(a, b) -> float:
    a, b = pd.Series(a, dtype=float), pd.Series(b, dtype=float)
    if len(a) < 3:
        return math.nan
    return float(a.rank().corr(b.rank()))


def _enabled(cfg, name) -> bool:
    return bool(cfg.get("experiments", {}).get(name, {}).get("enabled", False))


def claims(runs: pd.DataFrame, baselines: pd.DataFrame, cfg: dict) -> list[dict]:
    out: list[dict] = []
    out += _ntk_check()
    if _enabled(cfg, "E_c1"):
        out += _c1(runs)
    if _enabled(cfg, "E_c2"):
        out += _c2(runs, baselines)
    if _enabled(cfg, "E_c3"):
        out += _c3(runs, baselines)
    if _enabled(cfg, "E_c4"):
        out += _c4(runs, cfg)
    if _enabled(cfg, "E_c5"):
        out += _c5(runs, cfg)
    if _enabled(cfg, "E_c6"):
        out += _c6(runs, baselines, cfg)
    return out


def _ntk_check() -> list[dict]:
    from .checks import ntk_max_rel_error

    err = ntk_max_rel_error()
    return [
        claim(
            f"{P}.E_c0.ntk_analytic_matches_autograd",
            "analytic NTKs (two-layer MLP, 3-layer MLP, pure quadratic) equal autograd",
            "max relative error, float64",
            err,
            "<",
            1e-5,
        )
    ]


def _c1(runs) -> list[dict]:
    s = summary(runs, "E_c1")
    r = runs[(runs["experiment"] == "E_c1") & (runs["metric"] == "loss")]
    out = []
    lazy = s[s["eta_lambda0"] < 2]
    diffs = []
    for _, g in r[r["eta_lambda0"] < 2].groupby(["point", "member"]):
        diffs.append(np.max(np.diff(g.sort_values("step")["value"].to_numpy())))
    cat = s[(s["eta_lambda0"] >= 2.2) & (s["eta_lambda0"] <= 3.9)]
    div = s[s["eta_lambda0"] >= 4.1]
    el_fin = lazy["eta_lambda_final"] / lazy["eta_lambda0"]
    c = f"{P}.E_c1"
    out.append(
        claim(
            f"{c}.lazy_loss_monotone",
            "lazy phase: loss decreases monotonically",
            "eta*lambda0 < 2: max_t (L_{t+1} - L_t)",
            _max(diffs),
            "<=",
            1e-12,
        )
    )
    out.append(
        claim(
            f"{c}.lazy_curvature_constant",
            "lazy phase: curvature stays put",
            "eta*lambda0 < 2: max |lambda_fin/lambda0 - 1|",
            _max(np.abs(el_fin - 1)),
            "<",
            0.05,
        )
    )
    out.append(
        claim(
            f"{c}.catapult_converges",
            "catapult phase converges",
            "2.2 <= eta*lambda0 <= 3.9: max final loss",
            _max(cat["final_loss"]),
            "<",
            1e-8,
        )
    )
    out.append(
        claim(
            f"{c}.catapult_loss_spike",
            "catapult phase: loss first grows",
            "same LRs: min max_t L_t/L_0",
            _min(cat["loss_max_ratio"]),
            ">",
            1,
        )
    )
    out.append(
        claim(
            f"{c}.catapult_curvature_drops",
            "catapult phase: curvature falls below 2/eta",
            "same LRs: max eta*lambda_fin",
            _max(cat["eta_lambda_final"]),
            "<",
            2,
        )
    )
    out.append(
        claim(
            f"{c}.catapult_norm_drops",
            "catapult phase: weight norm drops",
            "same LRs: max |theta_fin|^2/|theta_0|^2",
            _max(cat["theta2_final_ratio"]),
            "<",
            0.9,
        )
    )
    bad = div["diverged"].astype(bool) | ~np.isfinite(div["final_loss"]) | (div["final_loss"] > 1e6)
    out.append(
        claim(
            f"{c}.diverges_above_4",
            "divergent phase above eta*lambda0 = 4",
            "eta*lambda0 >= 4.1: frac with loss > 1e6 or NaN",
            _frac(bad),
            "==",
            1,
        )
    )
    return out


def _edge(baselines, experiment, metric="edge_upper"):
    b = baselines[
        (baselines["experiment"] == experiment) & (baselines["baseline"] == "window") & (baselines["metric"] == metric)
    ]
    return b


def _c2(runs, baselines) -> list[dict]:
    s = summary(runs, "E_c2")
    c = f"{P}.E_c2"
    edge = _edge(baselines, "E_c2")["value"]
    cat = s[(s["eta_lambda0"] > 2) & (s["eta_lambda0"] <= 3.5)]
    lazy = s[s["eta_lambda0"] <= 1.9]
    div = s[s["eta_lambda0"] >= 4.2]
    return [
        claim(
            f"{c}.bound_in_window",
            "predicted upper edge (eq. 154) lies inside (2, 4)",
            "predicted upper edge (eta*lambda0)",
            _max(edge),
            "in",
            2,
            threshold_high=4,
        ),
        claim(
            f"{c}.catapult_converges",
            "catapult phase converges",
            "eta*lambda0 in (2, 3.5]: frac with final loss < 1e-8",
            _frac(cat["final_loss"] < 1e-8),
            "==",
            1,
        ),
        claim(
            f"{c}.catapult_loss_spike",
            "catapult: loss spikes",
            "same LRs: min max_t L_t/L_0",
            _min(cat["loss_max_ratio"]),
            ">",
            1,
        ),
        claim(
            f"{c}.catapult_curvature_drops",
            "catapult: curvature ends below 2/eta",
            "same LRs: max eta*lambda_inf",
            _max(cat["eta_lambda_final"]),
            "<",
            2,
        ),
        claim(
            f"{c}.catapult_norm_drops",
            "catapult: weight norm drops",
            "same LRs: max theta^2_inf/theta^2_0",
            _max(cat["theta2_final_ratio"]),
            "<",
            1,
        ),
        claim(
            f"{c}.lazy_curvature",
            "lazy: curvature constant",
            "eta*lambda0 <= 1.9: max |eta*lambda_inf - eta*lambda0|",
            _max(np.abs(lazy["eta_lambda_final"] - lazy["eta_lambda0"])),
            "<",
            0.1,
        ),
        claim(
            f"{c}.lazy_norm",
            "lazy: weight norm kept",
            "eta*lambda0 <= 1.9: min theta^2_inf/theta^2_0",
            _min(lazy["theta2_final_ratio"]),
            ">",
            0.95,
        ),
        claim(
            f"{c}.diverges_above_4_2",
            "divergent above 4.2",
            "eta*lambda0 >= 4.2: frac diverged",
            _frac(div["diverged"].astype(bool) | ~np.isfinite(div["final_loss"])),
            "==",
            1,
        ),
    ]


def _c3(runs, baselines) -> list[dict]:
    s = summary(runs, "E_c3")
    c = f"{P}.E_c3"
    edges = _edge(baselines, "E_c3").drop_duplicates("point").set_index("point")["value"]
    first = s.drop_duplicates("point").set_index("point")
    formula = 2 * first["lambda0"] / first["mean_sq_weight0"]
    exact = np.abs(edges - formula.reindex(edges.index))
    near = np.abs(edges - 2 * (1 + first["slope"].reindex(edges.index) ** 2))
    ok = []
    for pt, g in s.groupby("point"):
        w = g[(g["eta_lambda0"] > 2) & (g["eta_lambda0"] < edges.get(pt, np.nan))]
        ok += list((w["final_loss"] < 1e-8) & (w["loss_max_ratio"] > 1) & (w["eta_lambda_final"] < 2))
    lazy = s[s["eta_lambda0"] < 2]
    return [
        claim(
            f"{c}.bound_formula_exact",
            "window edge equals 2 lambda0 / mean theta0^2 (x = 1)",
            "max |edge - 2 lambda0/mean theta0^2|",
            _max(exact),
            "<",
            1e-6,
        ),
        claim(
            f"{c}.bound_near_2_1_plus_a2",
            "edge close to 2(1 + a^2)",
            "max over slopes |edge - 2(1 + a^2)|",
            _max(near),
            "<=",
            0.2,
        ),
        claim(
            f"{c}.catapult_window",
            "every LR inside (2, edge) catapults and converges",
            "frac with final loss < 1e-8, max L > L0, eta*lambda_inf < 2",
            _frac(ok),
            "==",
            1,
        ),
        claim(
            f"{c}.lazy_curvature",
            "lazy: curvature constant",
            "eta*lambda0 < 2: max |eta*lambda_inf - eta*lambda0|",
            _max(np.abs(lazy["eta_lambda_final"] - lazy["eta_lambda0"])),
            "<",
            0.1,
        ),
    ]


def _c4(runs, cfg) -> list[dict]:
    s = summary(runs, "E_c4").sort_values("eta_lambda0")
    c = f"{P}.E_c4"
    e = cfg["experiments"]["E_c4"]
    sp = s["sparsity_l1"].to_numpy()
    base = s[s["eta_lambda0"] <= 1.9]["sparsity_l1"]
    cat = s[(s["eta_lambda0"] > 2) & (s["eta_lambda0"] < 4)]
    dead = s[np.abs(s["final_loss"] - 0.5 * e["y"] ** 2) < e["dead_tol"]]
    out = [
        claim(
            f"{c}.sparsity_baseline",
            "lazy sparsity near 1/2",
            "eta*lambda0 <= 1.9: min sparsity (range within [0.45, 0.55])",
            _min(base),
            "in[]",
            0.45,
            threshold_high=0.55,
            note=f"max {_max(base):.4f}",
        ),
        claim(
            f"{c}.sparsity_baseline_max",
            "lazy sparsity near 1/2 (upper end of the range)",
            "eta*lambda0 <= 1.9: max sparsity",
            _max(base),
            "in[]",
            0.45,
            threshold_high=0.55,
        ),
        claim(
            f"{c}.sparsity_monotone",
            "sparsity does not fall with the LR",
            "max drop between consecutive LRs",
            _max(np.maximum(0, -np.diff(sp))) if sp.size > 1 else math.nan,
            "<=",
            0.03,
        ),
        claim(
            f"{c}.sparsity_high_above_3",
            "sparse above 3",
            "eta*lambda0 >= 3: min sparsity",
            _min(s[s["eta_lambda0"] >= 3]["sparsity_l1"]),
            ">=",
            0.6,
        ),
        claim(
            f"{c}.catapult_converges",
            "catapult converges",
            "eta*lambda0 in (2, 4): max final loss",
            _max(cat["final_loss"]),
            "<",
            1e-4,
        ),
        claim(
            f"{c}.dead_network_sparse",
            "dead nets are fully sparse",
            f"runs with |L_fin - y^2/2| < {e['dead_tol']:g}: min sparsity ({len(dead)} runs)",
            _min(dead["sparsity_l1"]),
            ">",
            0.99,
        ),
    ]
    return out


def median_by_lr(s: pd.DataFrame, cols) -> pd.DataFrame:
    """Per (dataset, depth, width, eta*lambda0): the median over seeds of ``cols`` and the seed count."""
    g = s.groupby(["dataset", "depth", "width", "eta_lambda0"])
    med = g[cols].median().reset_index()
    med["n_seeds"] = g.size().to_numpy()
    med["all_converged"] = g["diverged"].apply(lambda d: not d.astype(bool).any()).to_numpy()
    return med


def _c5(runs, cfg) -> list[dict]:
    s = summary(runs, "E_c5")
    c = f"{P}.E_c5"
    cols = ["sparsity_l1", "final_loss", "loss_max_ratio", "eta_lambda_final", "test_loss"]
    med = median_by_lr(s, cols)
    out = []
    for (ds, depth, width), g in med.groupby(["dataset", "depth", "width"]):
        if ds == "gaussian" or depth != 1:
            continue
        tag = f"{ds} (width {width})"
        ns = int(g["n_seeds"].min())
        base = g[g["eta_lambda0"] <= 1.5]["sparsity_l1"]
        at8 = g[np.isclose(g["eta_lambda0"], 8)]["sparsity_l1"]
        conv = g[g["all_converged"]]
        cat = g[(g["eta_lambda0"] >= 2.5) & (g["eta_lambda0"] <= 8)]
        lazy = g[g["eta_lambda0"] <= 1.9]
        ref = g[np.isclose(g["eta_lambda0"], 1)]["test_loss"]
        catl = g[(g["eta_lambda0"] > 2) & g["all_converged"]]["test_loss"]
        kw = {"n_seeds": ns}
        out += [
            claim(
                f"{c}.sparsity_baseline.{ds}",
                f"lazy sparsity near 1/2, {tag}",
                "eta*lambda0 <= 1.5: min median sparsity (range within [0.45, 0.55])",
                _min(base),
                "in[]",
                0.45,
                threshold_high=0.55,
                note=f"max {_max(base):.4f}",
                **kw,
            ),
            claim(
                f"{c}.sparsity_baseline_max.{ds}",
                f"lazy sparsity near 1/2 (upper end), {tag}",
                "eta*lambda0 <= 1.5: max median sparsity",
                _max(base),
                "in[]",
                0.45,
                threshold_high=0.55,
                **kw,
            ),
            claim(
                f"{c}.sparsity_high_at_8.{ds}",
                f"sparse at eta*lambda0 = 8, {tag}",
                "median sparsity at eta*lambda0 = 8",
                _max(at8),
                ">=",
                0.8,
                **kw,
            ),
            claim(
                f"{c}.sparsity_rises.{ds}",
                f"sparsity rises with the LR, {tag}",
                "Spearman(eta*lambda0, median sparsity), converged LRs",
                _spearman(conv["eta_lambda0"], conv["sparsity_l1"]),
                ">=",
                0.9,
                **kw,
            ),
            claim(
                f"{c}.catapult_converges.{ds}",
                f"catapult LRs converge, {tag}",
                "eta*lambda0 in [2.5, 8]: max median final loss",
                _max(cat["final_loss"]),
                "<",
                1e-3,
                **kw,
            ),
            claim(
                f"{c}.catapult_loss_spike.{ds}",
                f"catapult LRs spike, {tag}",
                "same LRs: min median max_t L_t/L_0",
                _min(cat["loss_max_ratio"]),
                ">",
                2,
                **kw,
            ),
            claim(
                f"{c}.catapult_curvature_drops.{ds}",
                f"catapult ends at eta*lambda <= 2, {tag}",
                "same LRs: max median eta*lambda_inf",
                _max(cat["eta_lambda_final"]),
                "<=",
                2.1,
                **kw,
            ),
            claim(
                f"{c}.lazy_curvature.{ds}",
                f"lazy curvature constant, {tag}",
                "eta*lambda0 <= 1.9: max |median eta*lambda_inf - eta*lambda0|",
                _max(np.abs(lazy["eta_lambda_final"] - lazy["eta_lambda0"])),
                "<",
                0.15,
                **kw,
            ),
            claim(
                f"{c}.catapult_generalises.{ds}",
                f"catapult generalises better, {tag}",
                "best median test loss over converged catapult LRs - test loss at eta*lambda0 = 1 (expected < 0)",
                _min(catl) - _max(ref),
                "report",
                **kw,
            ),
        ]
    gs = med[med["dataset"] == "gaussian"]
    if not gs.empty:
        conv = gs[gs["all_converged"]]
        onset = gs[~gs["all_converged"]]["eta_lambda0"]
        out.append(
            claim(
                f"{c}.gaussian_control",
                "centred Gaussian control: sparsity at the largest converged LR",
                "median sparsity at the largest converged eta*lambda0",
                conv.sort_values("eta_lambda0")["sparsity_l1"].iloc[-1] if len(conv) else math.nan,
                "report",
                note=f"divergence onset eta*lambda0 = {_min(onset):g}",
                n_seeds=int(gs["n_seeds"].min()),
            )
        )
    deep = s[s["depth"] >= 2]
    if not deep.empty:
        layer_cols = [k for k in deep.columns if k.startswith("sparsity_l")]
        m2 = deep.groupby(["dataset", "eta_lambda0"])[layer_cols].median().reset_index()
        top = m2.sort_values("eta_lambda0").groupby("dataset").tail(1)
        note = "; ".join(
            f"{r.dataset} @ {r.eta_lambda0:g}: " + ", ".join(f"{k}={getattr(r, k):.3f}" for k in layer_cols)
            for r in top.itertuples()
        )
        out.append(
            claim(
                f"{c}.three_layer_sparsity",
                "3-layer ReLU nets: per-layer sparsity at the largest LR",
                "median layer-1 sparsity at the largest eta*lambda0 (mean over data sets)",
                float(top["sparsity_l1"].mean()),
                "report",
                note=note,
                n_seeds=int(deep["seed"].nunique()),
            )
        )
    return out


def converged_max(s: pd.DataFrame, ratio: float) -> float:
    """Largest eta*lambda0 whose run did not diverge and ended below ``ratio`` times its initial loss."""
    ok = s[~s["diverged"].astype(bool) & (s["final_loss"] < ratio * s["loss0"])]
    return float(ok["eta_lambda0"].max()) if len(ok) else math.nan


def _c6(runs, baselines, cfg) -> list[dict]:
    s = summary(runs, "E_c6")
    r = runs[(runs["experiment"] == "E_c6") & (runs["metric"] == "loss") & (runs["step"] == 0)]
    s = s.merge(r[["point", "member", "value"]].rename(columns={"value": "loss0"}), on=["point", "member"])
    ratio = cfg["experiments"]["E_c6"]["converged_below"]
    b = (
        baselines[(baselines["experiment"] == "E_c6") & (baselines["baseline"] == "window")]
        if len(baselines)
        else baselines
    )
    out = []
    for pt, g in s.groupby("point"):
        top = converged_max(g, ratio)
        for metric, name in (("edge_upper", "psi_eff"), ("edge_upper_omega", "omega")):
            e = b[(b["point"] == pt) & (b["metric"] == metric)]["value"]
            if e.empty:
                continue
            if pt == "fig09" and name == "psi_eff":
                name = "leaky_eq180"
            out.append(
                claim(
                    f"{P}.E_c6.bounds_between_2_and_empirical_max.{pt}.{name}",
                    f"{pt}: the {name} window edge lies between 2 and the largest converging LR",
                    f"edge (eta*lambda0); threshold_high = largest converging eta*lambda0 = {top:g}",
                    float(e.median()),
                    "in[]",
                    2.0,
                    threshold_high=top,
                )
            )
    return out
