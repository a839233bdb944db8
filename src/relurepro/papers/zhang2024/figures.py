"""Figures of zhang2024; each reads only the aggregated runs and baselines tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import plotting
from ...plotting import REFERENCE, SIMULATION, THEORY
from . import theory
from .claims import LEVELS, _odd_fit_residual, _sel, members, series

T_LABEL = "t = step × lr"


def _alpha_colours(alphas):
    return plotting.colours([float(a) for a in alphas] + [0.0, 1.0], cmap="viridis_r")


def _theory(bases, exp, point, member, metric="loss"):
    d = _sel(bases, experiment=exp, baseline="saxe", point=point, member=member, metric=metric).sort_values("step")
    return d["t"].to_numpy(), d["value"].to_numpy()


def _first_seed(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["seed"] == df["seed"].min()]


def _empty(ax, text="not run in this profile"):
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=9, color="grey")
    ax.set_xticks([])
    ax.set_yticks([])


def fig_identity(runs, bases, cfg):
    fig, ax = plotting.panels(3, title="Odd part linear, even part 1-homogeneous: f = c W2 W1 x + (1-c) W2 |W1 x|")
    d = _sel(runs, experiment="E0")
    alphas = sorted(d["alpha"].unique())
    col = _alpha_colours(alphas)
    res = []
    for a in alphas:
        da = d[d["alpha"] == a]
        g = lambda m: da[da["metric"] == m].sort_values("coord")["value"].to_numpy()  # noqa: E731,B023
        ax[0].scatter(g("odd_rhs"), g("odd_lhs"), s=8, color=col[a], label=f"α={a:g}")
        ax[1].scatter(g("even_rhs"), g("even_lhs"), s=8, color=col[a], label=f"α={a:g}")
        res.append((a, g("odd_residual")[0], g("even_residual")[0]))
    for a_, (lbl, rhs) in zip(ax[:2], [("f(x) − f(−x)", "(1+α) W2 W1 x"), ("f(x) + f(−x)", "(1−α) W2 |W1 x|")]):
        lim = a_.get_xlim()
        a_.plot(lim, lim, color="k", **{**THEORY, "linewidth": 1.5}, label="identity")
        a_.set_xlabel(rhs + " (output 1)")
        a_.set_ylabel(lbl)
        a_.legend()
    x = np.arange(len(res))
    ax[2].bar(x - 0.2, [max(r[1], 1e-17) for r in res], 0.4, label="odd identity", color="tab:blue")
    ax[2].bar(x + 0.2, [max(r[2], 1e-17) for r in res], 0.4, label="even identity", color="tab:orange")
    ax[2].axhline(1e-10, color="tab:red", linestyle="--", label="claim threshold 1e-10")
    ax[2].set_xticks(x, [f"α={r[0]:g}" for r in res])
    ax[2].set_yscale("log")
    ax[2].set_ylabel("max |residual| (float64)")
    ax[2].legend()
    return fig


def fig_expressivity(runs, bases, cfg):
    d = _sel(runs, experiment="E1")
    has_g3 = d["point"].str.startswith("g3_").any()
    fig, ax = plotting.panels(
        4 if has_g3 else 3,
        ncols=4 if has_g3 else 3,
        size=3.8,
        title="Expressivity: odd target sin 3θ on the unit circle",
    )
    names = {"relu2": "bias-free 2-layer", "relu3": "bias-free 3-layer", "bias2": "biased 2-layer"}
    cols = {"relu2": "tab:red", "relu3": "tab:blue", "bias2": "tab:green"}
    th = None
    for point, name in names.items():
        m = _first_seed(members(runs, "E1", point))
        if m.empty:
            continue
        mem = int(m["member"].iloc[0])
        f = _sel(d, point=point, member=mem, metric="f").sort_values("coord")
        th = f["coord"].to_numpy()
        ax[0].plot(th, f["value"], color=cols[point], label=name, **SIMULATION)
        step, _, loss = series(runs, "E1", point, mem, "loss")
        half = _sel(d, point=point, member=mem, metric="half_y2")["value"].iloc[0]
        ax[1].plot(step, loss / half, color=cols[point], label=name, **SIMULATION)
        if point == "relu2":
            fv = f["value"].to_numpy()
            fo = 0.5 * (fv - np.roll(fv, -len(fv) // 2))
            x = np.stack([np.cos(th), np.sin(th)], 1)
            w, *_ = np.linalg.lstsq(x, fo, rcond=None)
            ax[2].plot(th, fo, color=cols[point], label="odd part f_o", **SIMULATION)
            ax[2].plot(th, x @ w, color="k", label="least-squares linear fit", **THEORY)
            ax[2].set_title(f"max residual {_odd_fit_residual(th, fv):.1e}", fontsize=9)
    if th is not None:
        ax[0].plot(th, np.sin(3 * th), color="k", label="target sin 3θ", **THEORY)
    ax[1].axhline(1.0, color="grey", label="2-layer optimum ½⟨y²⟩ (f ≡ 0)", **REFERENCE)
    ax[0].set(xlabel="θ (rad)", ylabel="f(cos θ, sin θ)")
    ax[1].set(xlabel="Adam step", ylabel="loss / ½⟨y²⟩", yscale="log")
    ax[2].set(xlabel="θ (rad)", ylabel="½(f(x) − f(−x))")
    for a in ax[:3]:
        a.legend(fontsize=7)
    if has_g3:
        g3 = d[d["point"].str.startswith("g3_") & (d["metric"] == "loss")]
        rows = []
        for (point, mem), grp in g3.groupby(["point", "member"]):
            grp = grp.sort_values("step")
            half = _sel(d, point=point, member=mem, metric="half_y2")["value"].iloc[0]
            rows.append((point.split("_")[1], int(grp["width"].iloc[0]), grp["value"].iloc[-1] / half))
        r = (
            pd.DataFrame(rows, columns=["net", "width", "ratio"])
            .groupby(["net", "width"])["ratio"]
            .mean()
            .reset_index()
        )
        for net, grp in r.groupby("net"):
            ax[3].plot(grp["width"], grp["ratio"], "o-", color=cols[net], label=names[net])
        ax[3].set(xscale="log", yscale="log", xlabel="width", ylabel="final loss / ½⟨y²⟩", title="y = x1 x2 x3, D=3")
        ax[3].legend(fontsize=7)
    return fig


def fig_exact_equivalence(runs, bases, cfg):
    fig, ax = plotting.panels(
        4, ncols=4, size=3.6, title="Theorem A: paired ReLU nets are linear nets run c times slower"
    )
    d = _sel(runs, experiment="E2")
    col = _alpha_colours(d["alpha"].unique())
    for point, a_dl in (("sym", ax[1]), ("nosym", ax[3])):
        pm = _first_seed(members(runs, "E2", point, role="paired"))
        for r in pm.itertuples():
            ref = members(runs, "E2", point, role="linear_ref", alpha=r.alpha, seed=r.seed).iloc[0]
            step, t, lr_ = series(runs, "E2", point, r.member, "loss")
            _, _, ll = series(runs, "E2", point, int(ref["member"]), "loss")
            if point == "sym":
                ax[0].plot(t, lr_, color=col[r.alpha], label=f"ReLU α={r.alpha:g}", **SIMULATION)
                ax[0].plot(t, ll, color=col[r.alpha], label=f"linear, lr×c (α={r.alpha:g})", **THEORY)
                _, _, pe = series(runs, "E2", point, r.member, "pair_err")
                ax[2].plot(step, np.maximum(pe, 1e-18), color=col[r.alpha], label=f"α={r.alpha:g}", **SIMULATION)
            diff = np.abs(lr_ - ll) if point == "sym" else np.abs(lr_ - ll) / lr_[0]
            a_dl.plot(step, np.maximum(diff, 1e-18), color=col[r.alpha], label=f"α={r.alpha:g}", **SIMULATION)
    ax[0].set(xlabel=T_LABEL + " (ReLU)", ylabel="loss", title="(with S)")
    ax[1].axhline(1e-10, color="tab:red", linestyle="--", label="threshold 1e-10")
    ax[1].set(xlabel="step", ylabel="|L_ReLU − L_lin|", yscale="log", title="with S")
    ax[2].axhline(1e-12, color="tab:red", linestyle="--", label="threshold 1e-12")
    ax[2].set(xlabel="step", ylabel="max |W1[:K] + W1[K:]|, |W2 pairs|", yscale="log", title="pairing error")
    ax[3].axhline(0.01, color="tab:red", linestyle="--", label="threshold 0.01")
    ax[3].set(xlabel="step", ylabel="|L_ReLU − L_lin| / L0", yscale="log", title="without S")
    for a in ax:
        a.legend(fontsize=7)
    return fig


def _saxe_panels(runs, bases, exp, ax_loss, ax_res, point=None):
    rm = members(runs, exp, point, role="relu")
    if point is None and not rm.empty:
        point = rm["point"].iloc[0]
        rm = rm[rm["point"] == point]
    rm = _first_seed(rm)
    if "sigma0" in rm:
        rm = rm[rm["sigma0"] == rm["sigma0"].min()] if rm["sigma0"].nunique() > 1 else rm
    col = _alpha_colours(rm["alpha"].unique())
    for r in rm.sort_values("alpha").itertuples():
        _, t, loss = series(runs, exp, r.point, r.member, "loss")
        tt, lt = _theory(bases, exp, r.point, r.member)
        ax_loss.plot(t, loss, color=col[r.alpha], label=f"α={r.alpha:g} simulation", **SIMULATION)
        ax_loss.plot(tt, lt, color=col[r.alpha], label=f"α={r.alpha:g} theory", **THEORY)
        if ax_res is not None:
            ax_res.plot(t, np.abs(loss - lt) / loss[0], color=col[r.alpha], label=f"α={r.alpha:g}", **SIMULATION)
    ls = _sel(bases, experiment=exp, baseline="linreg", point=point, metric="loss_star")
    if not ls.empty:
        ax_loss.axhline(ls["value"].iloc[0], color="grey", label="L* (linear regression)", **REFERENCE)
    ax_loss.set(xlabel=T_LABEL, ylabel="loss")
    ax_loss.legend(fontsize=7, ncol=1)
    if ax_res is not None:
        ax_res.set(xlabel=T_LABEL, ylabel="|L − L_theory| / L0")
        ax_res.legend(fontsize=7)
    return rm


def fig_saxe_rank1(runs, bases, cfg):
    d = _sel(runs, experiment="E3", metric="loss", role="relu")
    grid = d[["H", "sigma0"]].drop_duplicates()
    n = 3 if len(grid) > 1 else 2
    fig, ax = plotting.panels(n, ncols=n, title="Rank-1 teacher: leaky nets follow the Saxe closed form with rate 2cs")
    _saxe_panels(runs, bases, "E3", ax[0], ax[1])
    if n == 3:
        rows = []
        for r in members(runs, "E3", role="relu").itertuples():
            from .claims import saxe_error

            rows.append((r.H, r.sigma0, saxe_error(runs, bases, "E3", r.point, r.member)))
        t = pd.DataFrame(rows, columns=["H", "sigma0", "err"]).groupby(["H", "sigma0"])["err"].max().unstack()
        im = ax[2].imshow(t.to_numpy(), cmap="magma_r", aspect="auto")
        ax[2].set_xticks(range(t.shape[1]), [f"{v:g}" for v in t.columns])
        ax[2].set_yticks(range(t.shape[0]), [str(int(v)) for v in t.index])
        ax[2].set(xlabel="σ0", ylabel="H", title="max |L − L_th| / L0")
        ax[2].grid(False)
        for (i, j), v in np.ndenumerate(t.to_numpy()):
            ax[2].text(j, i, f"{v:.3f}", ha="center", va="center", fontsize=8)
        fig.colorbar(im, ax=ax[2])
    return fig


def fig_saxe_multimode(runs, bases, cfg):
    rm = _first_seed(members(runs, "E4", role="relu")).sort_values("alpha", ascending=False)
    fig, ax = plotting.panels(
        1 + len(rm), ncols=min(4, 1 + len(rm)), title="Multi-mode teacher: stage-like learning, strongest mode first"
    )
    _saxe_panels(runs, bases, "E4", ax[0], None)
    mode_col = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]
    for a_, r in zip(ax[1:], rm.itertuples()):
        i = 0
        while True:
            s_rows = _sel(bases, experiment="E4", point=r.point, member=r.member, metric=f"s_mode{i}")
            if s_rows.empty:
                break
            s = s_rows["value"].iloc[0]
            _, t, u = series(runs, "E4", r.point, r.member, f"u_mode{i}")
            tt, ut = _theory(bases, "E4", r.point, r.member, f"u_mode{i}")
            c = mode_col[i % len(mode_col)]
            a_.plot(t, u, color=c, label=f"mode {i + 1} (s={s:.2g})", **SIMULATION)
            a_.plot(tt, ut, color=c, **THEORY)
            i += 1
        a_.set(xlabel=T_LABEL, ylabel="mode strength u_i", title=f"α={r.alpha:g} (dotted: theory)")
        a_.legend(fontsize=7)
    return fig


def fig_alpha_sweep(runs, bases, cfg):
    fig, ax = plotting.panels(3, ncols=3, size=4.0, title="Leaky slope α: one curve, time stretched by 2/(1+α)")
    rm = _first_seed(members(runs, "E5", role="relu"))
    col = _alpha_colours(rm["alpha"].unique())
    err_ax = ax[1].twinx()
    rows = []
    for r in rm.sort_values("alpha").itertuples():
        c = float(theory.c_of(r.alpha))
        _, t, loss = series(runs, "E5", r.point, r.member, "loss")
        tt, lt = _theory(bases, "E5", r.point, r.member)
        ax[0].plot(t, loss, color=col[r.alpha], label=f"α={r.alpha:g}", **SIMULATION)
        ax[0].plot(tt, lt, color=col[r.alpha], **THEORY)
        ax[1].plot(c * t, loss, color=col[r.alpha], label=f"α={r.alpha:g}", **SIMULATION)
        s = _sel(bases, experiment="E5", point=r.point, member=r.member, metric="s_mode0")["value"].iloc[0]
        from .claims import half_time_sim

        ta = half_time_sim(runs, "E5", r.point, r.member, 0, s)
        ref = members(runs, "E5", r.point, role="linear_ref", alpha=r.alpha, seed=r.seed)
        if r.alpha < 1 and not ref.empty:
            mref = int(ref["member"].iloc[0])
            _, _, lref = series(runs, "E5", r.point, mref, "loss")
            err_ax.plot(c * t, 100 * np.abs(loss - lref) / loss[0], color=col[r.alpha], **REFERENCE)
            rows.append((r.alpha, ta / half_time_sim(runs, "E5", r.point, mref, 0, s), "sqrtc"))
        one = rm[rm["alpha"] == 1.0]
        if not one.empty:
            m1 = int(one["member"].iloc[0])
            rows.append((r.alpha, ta / half_time_sim(runs, "E5", r.point, m1, 0, s), "raw"))
            u0 = _sel(bases, experiment="E5", point=r.point, member=m1, metric="u0_mode0")["value"].iloc[0]
            rows.append((r.alpha, theory.log_shift_ratio(s, u0, c), "pred"))
    ls = _sel(bases, experiment="E5", baseline="linreg", metric="loss_star")
    if not ls.empty:
        for a_ in ax[:2]:
            a_.axhline(ls["value"].iloc[0], color="grey", linewidth=1, linestyle="--")
    ax[0].set(xlabel=T_LABEL, ylabel="loss")
    ax[0].plot([], [], color="grey", label="Saxe theory", **THEORY)
    ax[0].legend(fontsize=7)
    ax[1].set(xlabel="c · t  (c = (1+α)/2)", ylabel="loss")
    ax[1].plot([], [], color="grey", label="Error (right axis)", **REFERENCE)
    err_ax.set_ylabel("Error |L_α − L_lin| / L0 (%)")
    err_ax.grid(False)
    ax[1].legend(fontsize=7, loc="center right")
    r = pd.DataFrame(rows, columns=["alpha", "ratio", "kind"])
    x = 2 / (1 + r["alpha"])
    styles = {
        "sqrtc": dict(marker="o", color="tab:blue", label="t½(α) / t½(linear, draws×√c, lr×c)", linestyle="none"),
        "raw": dict(marker="s", color="tab:orange", label="t½(α) / t½(α=1), same raw draws", linestyle="none"),
        "pred": dict(color="tab:orange", label="log-shift prediction (raw init)", **THEORY),
    }
    for kind, st in styles.items():
        sel = r["kind"] == kind
        yv = r["ratio"][sel]
        order = np.argsort(x[sel].to_numpy())
        ax[2].plot(x[sel].to_numpy()[order], yv.to_numpy()[order], **st)
    xs = np.linspace(1, 2, 50)
    ax[2].plot(xs, xs, color="k", linewidth=1, label="2/(1+α)")
    ax[2].set(xlabel="2/(1+α)", ylabel="half-time ratio", title="time rescaling")
    ax[2].legend(fontsize=7)
    return fig


def fig_symmetry_breaking(runs, bases, cfg):
    fig, ax = plotting.panels(3, ncols=3, size=4.0, title="Without symmetric data ReLU nets stop being linear nets")
    d = _sel(runs, experiment="E6", metric="loss")
    pts = sorted((p for p in d["point"].unique() if p != "xor"), key=lambda p: int(p[1:]))
    if pts:
        _saxe_panels(runs, bases, "E6", ax[0], None, point=pts[0])
        ax[0].set_title(f"unsymmetrised, P={pts[0][1:]}", fontsize=9)
        from .claims import saxe_error

        rows = []
        for r in members(runs, "E6", role="relu").itertuples():
            if r.point != "xor":
                rows.append((int(r.point[1:]), r.alpha, saxe_error(runs, bases, "E6", r.point, r.member)))
        t = pd.DataFrame(rows, columns=["P", "alpha", "err"]).groupby(["alpha", "P"])["err"].max().reset_index()
        col = _alpha_colours(t["alpha"].unique())
        for a, grp in t.groupby("alpha"):
            ax[1].plot(grp["P"], grp["err"], "o-", color=col[a], label=f"α={a:g}")
        ax[1].axhline(0.1, color="tab:red", linestyle="--", linewidth=1, label="0.1 (ReLU must exceed)")
        ax[1].set(xscale="log", yscale="log", xlabel="P (samples, unsymmetrised)", ylabel="max |L − L_theory| / L0")
        ax[1].legend(fontsize=7)
    else:
        _empty(ax[0])
        _empty(ax[1])
    xm = members(runs, "E6", "xor")
    if not xm.empty:
        xm = _first_seed(xm)
        for r in xm.itertuples():
            _, t, loss = series(runs, "E6", "xor", r.member, "loss")
            name = "ReLU (α=0)" if r.alpha == 0 else "linear (α=1)"
            ax[2].plot(t, loss, color="#fde725" if r.alpha == 0 else "#31688e", label=name, **SIMULATION)
        ls = _sel(bases, experiment="E6", baseline="linreg", point="xor", metric="loss_star")
        if not ls.empty:
            ax[2].axhline(ls["value"].iloc[0], color="grey", label="linear-regression optimum", **REFERENCE)
        ax[2].set(xlabel=T_LABEL, ylabel="loss", yscale="log", title="y = x1 x2 + x3 (XOR + linear)")
        ax[2].legend(fontsize=7)
    else:
        _empty(ax[2])
    return fig


def fig_deep(runs, bases, cfg):
    fig, ax = plotting.panels(4, ncols=4, size=3.8, title="Deep bias-free ReLU nets vs deep linear nets")
    role_col = {"relu": "#fde725", "linear": "#31688e", "paired": "tab:red"}
    depth_ls = {3: "-", 4: "--", 5: "-.", 6: ":"}
    for teacher, a_ in (("r1", ax[0]), ("r3", ax[1])):
        for r in _first_seed(members(runs, "E7")).itertuples():
            if not r.point.endswith(teacher) or r.role == "paired":
                continue
            _, t, loss = series(runs, "E7", r.point, r.member, "loss")
            a_.plot(
                t,
                loss,
                color=role_col[r.role],
                linestyle=depth_ls.get(int(r.depth), "-"),
                linewidth=1.5,
                label=f"{r.role}, depth {int(r.depth)}",
            )
        a_.set(
            xlabel=T_LABEL,
            ylabel="loss",
            yscale="log",
            title="rank-1 teacher" if teacher == "r1" else "rank-3 teacher: stages",
        )
        a_.set_ylim(bottom=1e-5)
        a_.legend(fontsize=7)
    for lv in LEVELS:
        ax[1].axhline(lv, color="grey", linewidth=0.8, linestyle=":")
    r1 = _first_seed(members(runs, "E7"))
    r1 = r1[r1["point"].str.endswith("_r1") & r1["role"].isin(["relu", "linear"])]
    xpos = 0
    ticks = []
    for r in r1.sort_values(["depth", "role"]).itertuples():
        for li in range(1, int(r.depth) + 1):
            sv = _sel(runs, experiment="E7", point=r.point, member=r.member, metric=f"sv_layer{li}")["value"].to_numpy()
            ax[2].scatter(np.full(len(sv), xpos), sv / sv[0], color=role_col[r.role], s=14)
            ticks.append((xpos, f"d{int(r.depth)} W{li}"))
            xpos += 1
        xpos += 1
    ax[2].set_xticks([p for p, _ in ticks], [n for _, n in ticks], rotation=90, fontsize=7)
    ax[2].scatter([], [], color=role_col["relu"], label="ReLU")
    ax[2].scatter([], [], color=role_col["linear"], label="linear")
    ax[2].legend(fontsize=7)
    ax[2].set(yscale="log", ylabel="s_k / s_1 of final weights", title="singular values, rank 1")
    pm = members(runs, "E7", role="paired")
    for r in pm.itertuples():
        for li in range(2, int(r.depth)):
            _, t, ab = series(runs, "E7", r.point, r.member, f"ab_layer{li}")
            ax[3].plot(t, ab, linestyle=depth_ls.get(int(r.depth), "-"), label=f"depth {int(r.depth)}, W{li}")
    ax[3].axhline(0.05, color="tab:red", linestyle="--", linewidth=1, label="0.05")
    ax[3].set(xlabel=T_LABEL, ylabel="‖A + B‖ / ‖W_mid‖", title="paired ReLU run from B = −A")
    if not pm.empty:
        ax[3].legend(fontsize=7)
    return fig


STEMS = {
    "E0": ("zhang2024_fig_identity", fig_identity),
    "E1": ("zhang2024_fig_expressivity", fig_expressivity),
    "E2": ("zhang2024_fig_exact_equivalence", fig_exact_equivalence),
    "E3": ("zhang2024_fig_saxe_rank1", fig_saxe_rank1),
    "E4": ("zhang2024_fig_saxe_multimode", fig_saxe_multimode),
    "E5": ("zhang2024_fig_alpha_sweep", fig_alpha_sweep),
    "E6": ("zhang2024_fig_symmetry_breaking", fig_symmetry_breaking),
    "E7": ("zhang2024_fig_deep", fig_deep),
}


def figures(cfg: dict) -> dict:
    """The figure stems of the enabled experiments, each with its drawing function."""
    ex = cfg.get("experiments", {})
    return {stem: fn for exp, (stem, fn) in STEMS.items() if exp in ex and ex[exp].get("enabled", True)}
