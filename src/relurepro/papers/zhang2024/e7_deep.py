"""E7: deep bias-free ReLU nets against deep linear nets (same draws), and a paired run from B = -A."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...claims import Claim, Measured, NotApplicable, threshold
from ...tables import Tables, final, members, n_seeds, select, series, vector
from .. import Job
from . import common, theory
from .common import T_LABEL, first_seed, floor_baselines, per_seed, teacher_spec, threshold_line

EXP = "E7"
STEM = "zhang2024_fig_deep"
# the learning-stage count of spec section 7: a peak of -dL/dlog t counts when it stands above
# PEAK_FLOOR x the largest peak, and two peaks are separate stages when the speed between them
# dips below DIP x the lower of the two
PEAK_FLOOR = 0.25
DIP = 0.5


def jobs(e: dict, cfg: dict) -> list[Job]:
    from .common import check_teacher, config_check

    n_sig, n_dep = len(e["sigma0s"]), len(e["depths"])
    config_check(n_sig == n_dep, "E7.sigma0s", f"{n_sig} init stds for {n_dep} depths; give one per entry of depths")
    check_teacher(EXP, P=e["P"], D=e["D"], C=e["C"], s=e["singular_values_rank3"], s_key="singular_values_rank3")
    test = {"kind": "gaussian_test", "seed": e["data_seed"] + 1, "P": e["n_test"], "D": e["D"]}
    teachers = {"r1": ([e["s_rank1"]], e["steps_rank1"]), "r3": (e["singular_values_rank3"], e["steps_rank3"])}
    out = []
    for tname, (s, steps) in teachers.items():
        name = f"e7_{tname}"
        spec = teacher_spec(seed=e["data_seed"], P=e["P"], D=e["D"], C=e["C"], s=s)
        for depth, sig in zip(e["depths"], e["sigma0s"]):
            roles = [("relu", 0.0), ("linear", 1.0)] + ([("paired", 0.0)] if e["paired"] and tname == "r1" else [])
            mem = [
                dict(
                    role=role,
                    alpha=a,
                    slope=a,
                    seed=seed,
                    sigma0=sig,
                    init_scale=sig,
                    lr=e["lr"],
                    depth=depth,
                    width=e["width"],
                )
                for seed in e["seeds"]
                for role, a in roles
            ]
            params = dict(depth=depth, width=e["width"], steps=steps, log_every=e["log_every"], data=name)
            out.append(Job(EXP, f"d{depth}_{tname}", params, {name: spec, "e7_test": test}, mem))
    return out


def _deep_paired_init(seed: int, sizes: list[int], sigma0: float):
    """``W1 = [U; -U]``, ``W_mid = [[A, -A], [-A, A]]`` (B = -A), ``W_L = [V, -V]`` in engine orientation."""
    import torch

    gen = torch.Generator().manual_seed(int(seed) + 7919)
    out = []
    n_layers = len(sizes) - 1
    for i, (fi, fo) in enumerate(zip(sizes[:-1], sizes[1:])):
        if i == 0:
            u = torch.randn(fi, fo // 2, generator=gen, dtype=torch.float64) * sigma0
            out.append(torch.cat([u, -u], 1))
        elif i == n_layers - 1:
            v = torch.randn(fi // 2, fo, generator=gen, dtype=torch.float64) * sigma0
            out.append(torch.cat([v, -v], 0))
        else:
            a = torch.randn(fi // 2, fo // 2, generator=gen, dtype=torch.float64) * sigma0
            out.append(torch.cat([torch.cat([a, -a], 1), torch.cat([-a, a], 1)], 0))
    return out


def _paired_deviation(final_w: list[np.ndarray], m: int, half: int) -> tuple[float, dict]:
    """Max deviation of member ``m`` from the paired structure, and ``||A + B|| / ||W_mid||`` per middle layer."""
    n_layers = len(final_w)
    dev_max, ab = 0.0, {}
    for li, w in enumerate(final_w):
        wm = w[m]  # engine orientation: [fan_in, fan_out]
        if li == 0:
            dev_max = max(dev_max, np.abs(wm[:, :half] + wm[:, half:]).max())
        elif li == n_layers - 1:
            dev_max = max(dev_max, np.abs(wm[:half] + wm[half:]).max())
        else:
            a, b = wm[:half, :half], wm[:half, half:]
            dev_max = max(dev_max, np.abs(wm[half:, half:] - a).max(), np.abs(wm[half:, :half] - b).max())
            ab[f"a_plus_b_layer{li + 1}"] = np.linalg.norm(a + b) / np.linalg.norm(wm)
    return dev_max, ab


def train(job: Job, data, ctx) -> pd.DataFrame:
    """Deep ReLU and linear members from the same draws, plus paired ReLU members; test-set and weight metrics."""
    import torch

    from ... import engine
    from .common import finish, mode_metrics, progress, rows, tensors

    p = job.params
    d = data[p["data"]]
    dt, dev = ctx.dtype, ctx.device
    x, y, slope, lr, c = tensors(job, d["x"], d["y"], ctx)
    D, C, W, L = x.shape[1], y.shape[1], p["width"], p["depth"]
    sizes = [D] + [W] * (L - 1) + [C]
    rand = engine.init_layers(
        job.column("seed"), sizes, [1.0] * L, init_scale=job.column("init_scale"), dtype=dt, device=dev
    )
    params = []
    for li in range(L):
        layer = rand[li].detach().clone()
        for m, mem in enumerate(job.members):
            if mem["role"] == "paired":
                layer[m] = _deep_paired_init(mem["seed"], sizes, mem["sigma0"])[li].to(dt).to(dev)
        params.append(layer.requires_grad_())
    modes_fn = mode_metrics(d["x"], d["y"], c, ctx)
    half = W // 2

    def metrics(ps, loss):
        out = modes_fn(ps, loss)
        for li in range(1, L - 1):  # ||A + B|| / ||W_mid||: drift away from the linear-equivalent B = -A
            w = ps[li]
            ab = w[:, :half, :half] + w[:, :half, half:]
            out[f"ab_layer{li + 1}"] = ab.flatten(1).norm(dim=1) / w.flatten(1).norm(dim=1)
        return out

    hist = engine.train(
        params,
        engine.MLPLoss(x, y, slope),
        lr,
        p["steps"],
        log_steps=engine.log_schedule(p["steps"], p["log_every"]),
        metrics=metrics,
        on_log=progress(ctx, job.key, p["steps"]),
    )
    labels = job.labels()
    final_w = [w.cpu().numpy() for w in hist.final_params]
    xt = torch.as_tensor(data["e7_test"]["x"], dtype=dt, device=dev)
    with torch.no_grad():
        fp = engine.mlp(hist.final_params, xt, slope).cpu().numpy()
        fn = engine.mlp(hist.final_params, -xt, slope).cpu().numpy()
    target = data["e7_test"]["x"] @ d["w_teacher"].T
    parts = [hist.frame(labels)]
    for m, mem in enumerate(job.members):
        fo, fe = 0.5 * (fp[m] - fn[m]), 0.5 * (fp[m] + fn[m])
        scalars = {
            # the norm ratio ||f - W_t x|| / ||W_t x|| (spec 7; not its square)
            "test_rel_error": np.linalg.norm(fp[m] - target) / np.linalg.norm(target),
            "even_over_odd": np.linalg.norm(fe) / np.linalg.norm(fo),
        }
        for li, w in enumerate(final_w):
            sv = np.linalg.svd(w[m], compute_uv=False)
            parts.append(rows(labels, m, p["steps"], f"sv_layer{li + 1}", sv[:6]))
        if mem["role"] == "paired":
            dev_max, ab = _paired_deviation(final_w, m, half)
            scalars.update(ab, paired_structure_dev=dev_max)
        for k, v in scalars.items():
            parts.append(rows(labels, m, p["steps"], k, v))
    return finish(pd.concat(parts, ignore_index=True), job)


def baselines(jobs: dict, runs, data, ctx) -> pd.DataFrame:
    return floor_baselines(jobs, data)


# ---------------------------------------------------------------- statistics


def learning_speed(t: np.ndarray, loss: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(t, -dL/dlog t)`` at the logged times ``t > 0``."""
    t, loss = np.asarray(t, dtype=float), np.asarray(loss, dtype=float)
    keep = t > 0
    t, loss = t[keep], loss[keep]
    return t, -np.gradient(loss, np.log(t))


def stage_peaks(t: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """Indices (into the ``t > 0`` samples) of the separate learning stages of a loss curve.

    A stage is an interior peak of the learning speed ``-dL/dlog t`` that stands above
    ``PEAK_FLOOR`` times the largest peak; two neighbouring peaks are separate stages only when
    the speed between them dips below ``DIP`` times the lower of the two, otherwise they merge
    into the higher one. A plain exponential decay has one stage.
    """
    _, v = learning_speed(t, loss)
    if len(v) < 3:
        return np.array([], dtype=int)
    interior = np.flatnonzero((v[1:-1] > v[:-2]) & (v[1:-1] >= v[2:])) + 1
    if len(interior) == 0:
        return interior
    tall = interior[v[interior] >= PEAK_FLOOR * v[interior].max()]
    stages = [int(tall[0])]
    for i in tall[1:]:
        last = stages[-1]
        if v[last : i + 1].min() < DIP * min(v[last], v[i]):
            stages.append(int(i))
        elif v[i] > v[last]:
            stages[-1] = int(i)
    return np.asarray(stages, dtype=int)


def count_stages(t: np.ndarray, loss: np.ndarray) -> int:
    """The number of separate learning stages of a loss curve (see :func:`stage_peaks`)."""
    return len(stage_peaks(t, loss))


# ---------------------------------------------------------------- claims


def _nets(t: Tables, **labels) -> pd.DataFrame:
    m = members(t.runs_of(EXP, metric="loss"), **labels)
    if m.empty:
        raise LookupError(f"no E7 runs with {labels}")
    return m


def _points(m: pd.DataFrame, teacher: str) -> pd.DataFrame:
    return m[m["point"].str.endswith(f"_{teacher}")]


def converges(t: Tables) -> dict:
    runs = t.runs_of(EXP)
    out = []
    for r in _nets(t, role=["relu", "linear"]).itertuples():
        _, loss = series(runs, "loss", point=r.point, member=r.member)
        out.append((r.seed, loss[-1] / loss[0]))
    return per_seed(out)


def relu_final(metric: str):
    """Measure: per seed, the max over ReLU nets of a final scalar metric."""

    def measure(t: Tables) -> dict:
        runs = t.runs_of(EXP)
        return per_seed(
            [(r.seed, final(runs, metric, point=r.point, member=r.member)) for r in _nets(t, role="relu").itertuples()]
        )

    return measure


def _rank1_relu(t: Tables) -> pd.DataFrame:
    m = _points(_nets(t, role="relu"), "r1")
    if m.empty:
        raise NotApplicable("no rank-1 teacher runs")
    return m


def first_layer_rank1(t: Tables) -> dict:
    runs = t.runs_of(EXP)
    out = []
    for r in _rank1_relu(t).itertuples():
        _, sv = vector(runs, "sv_layer1", point=r.point, member=r.member)
        out.append((r.seed, sv[1] / sv[0]))
    return per_seed(out)


def intermediate_rank2(t: Tables) -> dict:
    runs = t.runs_of(EXP)
    out = []
    for r in _rank1_relu(t).itertuples():
        for li in range(2, int(r.depth)):
            _, sv = vector(runs, f"sv_layer{li}", point=r.point, member=r.member)
            out.append((r.seed, sv[2] / sv[0]))
    return per_seed(out)


def _rank3_nets(t: Tables) -> pd.DataFrame:
    m = _points(_nets(t, role=["relu", "linear"]), "r3")
    if m.empty:
        raise NotApplicable("no rank-3 teacher runs")
    return m


def saddle_to_saddle(t: Tables) -> dict:
    runs = t.runs_of(EXP)
    out = []
    for r in _rank3_nets(t).itertuples():
        tt, loss = series(runs, "loss", x="t", point=r.point, member=r.member)
        out.append((r.seed, count_stages(tt, loss)))
    return per_seed(out, min)


def relu_slower(t: Tables) -> dict:
    runs = t.runs_of(EXP)
    levels = t.experiment(EXP)["stage_levels"]
    times = {}
    for r in _rank3_nets(t).itertuples():
        tt, loss = series(runs, "loss", x="t", point=r.point, member=r.member)
        times[(r.point, r.role, r.seed)] = [theory.crossing_time(tt, loss, lv) for lv in levels]
    out = []
    for (point, role, seed), ts in times.items():
        if role == "relu" and (point, "linear", seed) in times:
            out.append((seed, min(a / b for a, b in zip(ts, times[(point, "linear", seed)]))))
    return per_seed(out, min)


def _paired(t: Tables) -> pd.DataFrame:
    m = members(t.runs_of(EXP, metric="loss"), role="paired")
    if m.empty:
        raise NotApplicable("the paired run is off in this config")
    return m


def paired_structure(t: Tables) -> Measured:
    runs = t.runs_of(EXP)
    devs = [final(runs, "paired_structure_dev", point=r.point, member=r.member) for r in _paired(t).itertuples()]
    return Measured(max(devs), n_seeds(runs))


def no_exact_deep_map(t: Tables) -> dict:
    runs = t.runs_of(EXP)
    out = []
    for r in _paired(t).itertuples():
        for li in range(2, int(r.depth)):
            out.append((r.seed, final(runs, f"a_plus_b_layer{li}", point=r.point, member=r.member)))
    if not out:
        raise NotApplicable("no middle layers")
    return per_seed(out, min)


def _everywhere(value) -> dict:
    return {"smoke": value, "quick": value, "full": value}


CLAIMS = [
    Claim(
        "zhang2024.E7.converges",
        "deep ReLU and deep linear nets reach zero training loss",
        "max over nets of L_final / L0",
        "<",
        converges,
        thresholds=_everywhere(1e-3),
    ),
    Claim(
        "zhang2024.E7.linear_off_train",
        "the deep ReLU net learns the linear teacher off the training set",
        "max over ReLU nets of ||f - W_t x|| / ||W_t x|| on Gaussian test points (norm ratio)",
        "<",
        relu_final("test_rel_error"),
        thresholds=_everywhere(0.02),
        version=2,  # spec: the norm ratio, not its square
    ),
    Claim(
        "zhang2024.E7.even_part_small",
        "the deep ReLU function is almost odd (hence almost linear)",
        "max over ReLU nets of ||f_e|| / ||f_o|| on test points",
        "<",
        relu_final("even_over_odd"),
        thresholds=_everywhere(0.02),
    ),
    Claim(
        "zhang2024.E7.first_layer_rank1",
        "the first ReLU layer is rank 1 for a rank-1 teacher",
        "max over depths of s2/s1 of W1",
        "<",
        first_layer_rank1,
        thresholds=_everywhere(0.15),
    ),
    Claim(
        "zhang2024.E7.intermediate_rank2",
        "intermediate ReLU layers are (at most) rank 2, one pathway per half-space",
        "max over intermediate layers of s3/s1",
        "<",
        intermediate_rank2,
        thresholds=_everywhere(0.3),
    ),
    Claim(
        "zhang2024.E7.saddle_to_saddle",
        "with a rank-3 teacher both nets learn in separate stages (saddle to saddle)",
        "min over nets of the number of peaks of -dL/dlog t above 25% of the largest, "
        "separated by dips below half of the lower neighbour",
        ">=",
        saddle_to_saddle,
        thresholds=_everywhere(3),
        version=2,  # spec: counts learning stages; the old level-crossing statistic could not fail
    ),
    Claim(
        "zhang2024.E7.relu_slower",
        "deep ReLU nets learn each stage more slowly than deep linear nets",
        "min over stages and depths of t_ReLU / t_lin (stage times: crossings of the stage_levels)",
        ">",
        relu_slower,
        thresholds=_everywhere(1.5),
    ),
    Claim(
        "zhang2024.E7.paired_structure_invariant",
        "the paired deep structure [U; -U], [[A, B], [B, A]], [V, -V] is invariant under GD",
        "max deviation from the paired structure after training",
        "<",
        paired_structure,
        thresholds=_everywhere(1e-10),
        kind="invariant",  # the fixed set of a loss symmetry under S is exactly GD-invariant (spec 3.7)
    ),
    Claim(
        "zhang2024.E7.no_exact_deep_map",
        "(optional) B = -A is not invariant: no exact map to deep linear nets at depth >= 3",
        "min over middle layers and depths of ||A + B|| / ||W_mid|| after training from B = -A",
        ">",
        no_exact_deep_map,
        thresholds=_everywhere(0.05),
    ),
]


# ---------------------------------------------------------------- figures


def figures(e: dict, cfg: dict) -> dict:
    return {STEM: draw}


ROLE_COLOURS = {"relu": common.RELU_COLOUR, "linear": common.LINEAR_COLOUR, "paired": "tab:red"}
DEPTH_STYLES = {3: "-", 4: "--", 5: "-.", 6: ":"}


def draw(t: Tables):
    from ... import plotting

    runs = t.runs_of(EXP)
    fig, ax = plotting.panels(5, ncols=3, size=3.8, title="Deep bias-free ReLU nets vs deep linear nets")
    nets = first_seed(members(select(runs, metric="loss")))
    for teacher, a_ in (("r1", ax[0]), ("r3", ax[1])):
        for r in _points(nets, teacher).itertuples():
            if r.role == "paired":
                continue
            tt, loss = series(runs, "loss", x="t", point=r.point, member=r.member)
            a_.plot(
                tt,
                loss,
                color=ROLE_COLOURS[r.role],
                linestyle=DEPTH_STYLES.get(int(r.depth), "-"),
                linewidth=1.5,
                label=f"{r.role}, depth {int(r.depth)}",
            )
        title = "rank-1 teacher" if teacher == "r1" else "rank-3 teacher: stages"
        a_.set(xlabel=T_LABEL, ylabel="loss", yscale="log", title=title)
        a_.set_ylim(bottom=1e-5)
        a_.legend(fontsize=7)
    for lv in t.experiment(EXP)["stage_levels"]:
        ax[1].axhline(lv, color="grey", linewidth=0.8, linestyle=":")
    _singular_values(ax[2], runs, nets)
    _pair_drift(ax[3], t)
    _stage_speeds(ax[4], t, runs, nets)
    return fig


def _singular_values(a_, runs, nets) -> None:
    r1 = _points(nets, "r1")
    r1 = r1[r1["role"].isin(["relu", "linear"])]
    xpos, ticks = 0, []
    for r in r1.sort_values(["depth", "role"]).itertuples():
        for li in range(1, int(r.depth) + 1):
            _, sv = vector(runs, f"sv_layer{li}", point=r.point, member=r.member)
            a_.scatter(np.full(len(sv), xpos), sv / sv[0], color=ROLE_COLOURS[r.role], s=14)
            ticks.append((xpos, f"d{int(r.depth)} W{li}"))
            xpos += 1
        xpos += 1
    a_.set_xticks([p for p, _ in ticks], [n for _, n in ticks], rotation=90, fontsize=7)
    a_.scatter([], [], color=ROLE_COLOURS["relu"], label="ReLU")
    a_.scatter([], [], color=ROLE_COLOURS["linear"], label="linear")
    a_.legend(fontsize=7)
    a_.set(yscale="log", ylabel="s_k / s_1 of final weights", title="singular values, rank 1")


def _pair_drift(a_, t: Tables) -> None:
    runs = t.runs_of(EXP)
    pm = members(select(runs, metric="loss"), role="paired")
    for r in pm.itertuples():
        for li in range(2, int(r.depth)):
            tt, ab = series(runs, f"ab_layer{li}", x="t", point=r.point, member=r.member)
            a_.plot(tt, ab, linestyle=DEPTH_STYLES.get(int(r.depth), "-"), label=f"depth {int(r.depth)}, W{li}")
    limit = threshold(CLAIMS, "zhang2024.E7.no_exact_deep_map", t.profile)
    threshold_line(a_, limit, f"threshold {limit:g}", linewidth=1)
    a_.set(xlabel=T_LABEL, ylabel="‖A + B‖ / ‖W_mid‖", title="paired ReLU run from B = −A")
    if not pm.empty:
        a_.legend(fontsize=7)


def _stage_speeds(a_, t: Tables, runs, nets) -> None:
    r3 = _points(nets, "r3")
    r3 = r3[r3["role"].isin(["relu", "linear"])]
    for r in r3.itertuples():
        tt, loss = series(runs, "loss", x="t", point=r.point, member=r.member)
        ts, v = learning_speed(tt, loss)
        peaks = stage_peaks(tt, loss)
        colour, style = ROLE_COLOURS[r.role], DEPTH_STYLES.get(int(r.depth), "-")
        a_.plot(ts, v, color=colour, linestyle=style, linewidth=1.5, label=f"{r.role}, depth {int(r.depth)}")
        a_.scatter(ts[peaks], v[peaks], color=colour, edgecolor="k", zorder=3, s=25)
    need = threshold(CLAIMS, "zhang2024.E7.saddle_to_saddle", t.profile)
    counted = "counted stage" + (f" (claim: ≥ {need:g} per net)" if np.isfinite(need) else "")
    a_.scatter([], [], color="white", edgecolor="k", s=25, label=counted)
    a_.set(xscale="log", xlabel=T_LABEL, ylabel="−dL / d log t", title="learning speed, rank 3")
    if not r3.empty:
        a_.legend(fontsize=7)
