"""Scenario discovery: which regions of parameter space lead to a case of interest (PRIM and CART).

The inputs are a runs table's ``param.<name>`` columns, the case a set of outcome classes
(default: conventional incursion or worse). PRIM peels a box, a fraction ``alpha`` of its runs
at a time, always where the share of cases left inside (density) rises most, down to
``min_support`` of the runs; the peeling trajectory trades coverage (share of all cases inside)
for density. A box is chosen on it by a stated rule (default: the biggest box whose density is
within sampling error of the most reliably dense one; or a density threshold; or a step), pasted
back out, pruned of restrictions that do not matter (quasi-p-value), and read as a rule over its
restricted parameters only, each with what dropping it would cost. CART (a shallow scikit-learn
tree with balanced class weights) gives a second reading: its leaves that predict the case, as
rules. Coverage and density carry 95 % Wilson CIs (in-sample: the box was fitted to these runs, so
the density is optimistic). Figures and the ``discover`` command: :mod:`sim.discovery_report`.

>>> rng = np.random.default_rng(0)
>>> x = rng.uniform(size=(2000, 3))
>>> y = (x[:, 0] > 0.7)
>>> result = prim(x, y, ("a", "b", "c"), threshold=0.9, rng=rng)
>>> [(r.name, round(r.low, 1)) for r in result.box.restrictions]
[('a', 0.7)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pyarrow as pa
from scipy import stats

from sim import wep
from sim.analysis import wilson_interval
from sim.errors import ConfigError, ResultsError
from sim.model import CATALOGUE, OUTCOME_CLASSES, ParameterInfo
from sim.records import PARAM_PREFIX
from sim.results import CUMULATIVE

__all__ = ["DEFAULT_CASE", "RUN_COLUMNS", "Restriction", "Box", "PeelingTrajectory", "PrimResult", "CartResult",
           "parse_case", "case_labels", "parameter_matrix", "parameter_info", "format_bound", "unit_suffix",
           "describe_box", "peel", "paste", "select_step", "prim", "cart", "command"]

DEFAULT_CASE: tuple[str, ...] = tuple(c for c in OUTCOME_CLASSES if c in CUMULATIVE["incursion_or_worse"])
#: The run columns discovery reads: the outcome and every sampled parameter.
RUN_COLUMNS: tuple[str, ...] = ("outcome", f"{PARAM_PREFIX}*")
_PLAIN_UNITS = {"", "probability", "x", "weight", "index"}


def parse_case(spec: str | Sequence[str]) -> tuple[str, ...]:
    """Outcome classes from names (comma-separated or a list); cumulative names expand.

    >>> parse_case("limited_war_or_worse")
    ('regional_war', 'conventional_incursion', 'limited_war')
    """
    names = [s.strip() for s in (spec.split(",") if isinstance(spec, str) else spec) if s.strip()]
    classes: set[str] = set()
    for name in names:
        if name not in OUTCOME_CLASSES and name not in CUMULATIVE:
            allowed = ", ".join(OUTCOME_CLASSES + tuple(CUMULATIVE))
            raise ConfigError(f"case: unknown outcome {name!r}; allowed: {allowed}")
        classes.update(CUMULATIVE.get(name, (name,)))
    if not classes:
        raise ConfigError("case: name at least one outcome class")
    return tuple(c for c in OUTCOME_CLASSES if c in classes)


def case_labels(table: pa.Table, case: Sequence[str]) -> np.ndarray:
    """True for each run whose outcome class is in ``case``."""
    return np.isin(np.asarray(table.column("outcome").to_numpy(zero_copy_only=False)), list(case))


def parameter_matrix(table: pa.Table) -> tuple[tuple[str, ...], np.ndarray]:
    """Names and values (runs x parameters) of the sampled parameters that vary across runs."""
    columns = [c for c in table.column_names if c.startswith(PARAM_PREFIX)]
    if not columns:
        raise ResultsError("no param.<name> columns: the runs were made with uncertainty=fixed, so there is no "
                           "parameter space to search; rerun with uncertainty=sampled")
    values = np.column_stack([np.asarray(table.column(c).to_numpy(), dtype=float) for c in columns])
    varies = np.ptp(values, axis=0) > 0
    if not varies.any():
        raise ResultsError("every param.<name> column is constant: no parameter space to search")
    return tuple(c[len(PARAM_PREFIX):] for c, keep in zip(columns, varies) if keep), values[:, varies]


def parameter_info(names: Sequence[str], ladder: Mapping | None = None) -> dict[str, ParameterInfo]:
    """What each parameter means: the catalogue's entry, else its ladder move, else its name.

    >>> parameter_info(["p_x"], {"low_intensity": {"clash": {"border_clashes": "p_x"}}})["p_x"].meaning
    'chance a clash moves the ladder from low intensity to border clashes'
    """
    moves: dict[str, list] = {}
    for rung, events in (ladder or {}).items():
        for event, targets in (events or {}).items():
            for target, pname in (targets or {}).items():
                moves.setdefault(pname, []).append((event, rung, target))
    infos = {}
    for name in names:
        if name in CATALOGUE:
            infos[name] = CATALOGUE[name]
        elif name in moves:
            events = " or ".join(dict.fromkeys(e.replace("_", " ") for e, _, _ in moves[name]))
            sources = " or ".join(dict.fromkeys(r.replace("_", " ") for _, r, _ in moves[name]))
            targets = " or ".join(dict.fromkeys(t.replace("_", " ") for _, _, t in moves[name]))
            infos[name] = ParameterInfo("probability", "probability",
                                        f"chance a {events} moves the ladder from {sources} to {targets}")
        else:
            infos[name] = ParameterInfo("unknown", "", name.replace("_", " "))
    return infos


def format_bound(value: float) -> str:
    """A bound for a rule: 3 significant figures, thousands grouped.

    >>> format_bound(0.31234), format_bound(823.4), format_bound(1.5e9)
    ('0.312', '823', '1,500,000,000')
    """
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def unit_suffix(unit: str) -> str:
    """`` <unit>`` to follow a number, or nothing for a probability, a factor or a weight."""
    return "" if unit in _PLAIN_UNITS else f" {unit}"


@dataclass(frozen=True)
class Restriction:
    """One restricted parameter of a box, and what dropping the restriction would do."""

    name: str
    low: float | None                 # None: not restricted from below
    high: float | None                # None: not restricted from above
    full_range: tuple[float, float]   # range of the parameter over all runs
    meaning: str
    unit: str
    text: str
    coverage_if_dropped: float
    density_if_dropped: float
    quasi_p: float                    # P(at least the box's cases | density as if dropped), binomial
    bootstrap_share: float | None = None  # share of bootstrap boxes restricting this parameter


@dataclass(frozen=True)
class Box:
    """A box of parameter space read as a rule, with coverage and density (95 % Wilson CIs)."""

    restrictions: tuple[Restriction, ...]
    n_runs: int
    n_cases: int
    coverage: float
    coverage_ci95: tuple[float, float]
    density: float
    density_ci95: tuple[float, float]
    support: float
    base_rate: float
    rule: str                         # the restrictions in words
    text: str                         # the rule with its coverage and density


def _inside(x: np.ndarray, lower: np.ndarray, upper: np.ndarray, strict_lower: bool = False) -> np.ndarray:
    above = x > lower if strict_lower else x >= lower
    return above & (x <= upper)


def _restriction_text(info: ParameterInfo, name: str, low, high, strict_lower: bool) -> str:
    meaning = re.sub(r"\s*\([^()]*\)$", "", info.meaning)
    unit = unit_suffix(info.unit)
    op_low = ">" if strict_lower else "≥"
    if low is not None and high is not None:
        bound = f"between {format_bound(low)} and {format_bound(high)}{unit}"
    elif low is not None:
        bound = f"{op_low} {format_bound(low)}{unit}"
    else:
        bound = f"≤ {format_bound(high)}{unit}"
    label = name if meaning == name.replace("_", " ") else f"{meaning} ({name})"
    return f"{label} {bound}"


def describe_box(x: np.ndarray, y: np.ndarray, names: Sequence[str], lower: np.ndarray, upper: np.ndarray, *,
                 infos: Mapping[str, ParameterInfo] | None = None, strict_lower: bool = False,
                 bootstrap_shares: Mapping[str, float] | None = None) -> Box:
    """A box (bounds per parameter, +-inf when free) as a rule with coverage, density and drop-one checks."""
    y = np.asarray(y, dtype=bool)
    infos = infos or parameter_info(names)
    full_lo, full_hi = x.min(axis=0), x.max(axis=0)
    lower = np.where(lower > full_lo if not strict_lower else lower >= full_lo, lower, -np.inf)
    upper = np.where(upper < full_hi, upper, np.inf)
    within = _inside(x, lower, upper, strict_lower)
    inside = within.all(axis=1)
    n_runs, n_cases, total_cases = int(inside.sum()), int(y[inside].sum()), int(y.sum())
    density = n_cases / n_runs if n_runs else float("nan")
    restrictions = []
    for j in np.flatnonzero(np.isfinite(lower) | np.isfinite(upper)):
        dropped = np.delete(within, j, axis=1).all(axis=1)
        n_drop, cases_drop = int(dropped.sum()), int(y[dropped].sum())
        p_drop = cases_drop / n_drop
        low = float(lower[j]) if np.isfinite(lower[j]) else None
        high = float(upper[j]) if np.isfinite(upper[j]) else None
        name = names[j]
        restrictions.append(Restriction(
            name, low, high, (float(full_lo[j]), float(full_hi[j])), infos[name].meaning, infos[name].unit,
            _restriction_text(infos[name], name, low, high, strict_lower), cases_drop / total_cases, p_drop,
            float(stats.binom.sf(n_cases - 1, n_runs, p_drop)) if n_runs else float("nan"),
            None if bootstrap_shares is None else float(bootstrap_shares.get(name, 0.0))))
    restrictions.sort(key=lambda r: r.quasi_p)
    base = total_cases / y.size
    coverage = n_cases / total_cases
    rule = ("when " + " and ".join(r.text for r in restrictions)) if restrictions else "anywhere (no restriction)"
    text = rule + (f": coverage {wep.format_percent(coverage)}, density {wep.format_percent(density)} (base rate "
             f"{wep.format_percent(base)}; {n_runs:,} of {y.size:,} runs in the box)") if n_runs else ": empty"
    return Box(tuple(restrictions), n_runs, n_cases, coverage, wilson_interval(n_cases, total_cases), density,
               wilson_interval(n_cases, n_runs) if n_runs else (float("nan"),) * 2, n_runs / y.size, base, rule, text)


@dataclass(frozen=True, eq=False)
class PeelingTrajectory:
    """Boxes from peeling, biggest first: bounds (steps x parameters), runs and cases inside each."""

    lower: np.ndarray
    upper: np.ndarray
    n_runs: np.ndarray
    n_cases: np.ndarray
    total_runs: int
    total_cases: int
    full_lower: np.ndarray
    full_upper: np.ndarray

    @property
    def coverage(self) -> np.ndarray:
        return self.n_cases / self.total_cases

    @property
    def density(self) -> np.ndarray:
        return self.n_cases / self.n_runs

    @property
    def n_restricted(self) -> np.ndarray:
        return ((self.lower > self.full_lower) | (self.upper < self.full_upper)).sum(axis=1)


def _check_inputs(x, y) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=bool)
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ConfigError(f"inputs: need runs x parameters and one label per run, got {x.shape} and {y.shape}")
    if not np.isfinite(x).all():
        raise ResultsError("param columns hold NaN or infinite values")
    if not 0 < y.sum() < y.size:
        raise ResultsError(f"the case holds {int(y.sum())} of {y.size:,} runs: need some runs in it and some not")
    return x, y


def peel(x, y, *, alpha: float = 0.05, min_support: float = 0.05) -> PeelingTrajectory:
    """PRIM's peeling: drop the ``alpha`` tail (one side of one parameter) that leaves the densest box."""
    x, y = _check_inputs(x, y)
    if not (0 < alpha < 0.5 and 0 < min_support < 1):
        raise ConfigError(f"alpha={alpha!r} must be in (0, 0.5) and min_support={min_support!r} in (0, 1)")
    n, d = x.shape
    min_runs = max(1, int(np.ceil(min_support * n)))
    lower, upper = x.min(axis=0), x.max(axis=0)
    rows = np.arange(n)
    history = [(lower.copy(), upper.copy(), n, int(y.sum()))]
    while True:
        xb, yb = x[rows], y[rows]
        q_low, q_high = np.quantile(xb, alpha, axis=0), np.quantile(xb, 1 - alpha, axis=0)
        keep = np.concatenate([xb >= q_low, xb <= q_high], axis=1)           # candidates: 2 d peels
        kept = keep.sum(axis=0)
        valid = (kept < rows.size) & (kept >= min_runs)
        if not valid.any():
            break
        dens = np.where(valid, keep[yb].sum(axis=0) / np.maximum(kept, 1), -np.inf)
        best = int(np.flatnonzero(dens == dens.max())[np.argmax(kept[dens == dens.max()])])  # tie: bigger box
        j = best % d
        if best < d:
            lower[j] = q_low[j]
        else:
            upper[j] = q_high[j]
        rows = rows[keep[:, best]]
        history.append((lower.copy(), upper.copy(), rows.size, int(y[rows].sum())))
    lows, highs, n_runs, n_cases = zip(*history)
    return PeelingTrajectory(np.array(lows), np.array(highs), np.array(n_runs), np.array(n_cases), n,
                             int(y.sum()), x.min(axis=0), x.max(axis=0))


def paste(x, y, lower, upper, *, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """PRIM's pasting: widen one face at a time by ~``alpha`` of the box's runs while density rises."""
    x, y = _check_inputs(x, y)
    lower, upper = np.array(lower, dtype=float), np.array(upper, dtype=float)
    for _ in range(10 * x.shape[1]):
        within = _inside(x, lower, upper)
        outside_count = (~within).sum(axis=1)
        inside = outside_count == 0
        step = max(1, int(np.ceil(alpha * inside.sum())))
        density = y[inside].mean()
        best = (density, None)
        for j in range(x.shape[1]):
            near = inside | ((outside_count == 1) & ~within[:, j])            # outside on j only
            for side, beyond in (("low", near & (x[:, j] < lower[j])), ("high", near & (x[:, j] > upper[j]))):
                if not beyond.any():
                    continue
                values = np.sort(x[beyond, j])
                bound = values[-min(step, values.size)] if side == "low" else values[min(step, values.size) - 1]
                grown = inside | (beyond & ((x[:, j] >= bound) if side == "low" else (x[:, j] <= bound)))
                if y[grown].mean() > best[0]:
                    best = (y[grown].mean(), (j, side, bound))
        if best[1] is None:
            break
        j, side, bound = best[1]
        (lower if side == "low" else upper)[j] = bound
    return lower, upper


def select_step(trajectory: PeelingTrajectory, *, threshold: float | None = None,
                max_restricted: int | None = None) -> tuple[int, bool]:
    """Choose a box on the trajectory among those restricting at most ``max_restricted`` parameters.

    With a ``threshold``: the highest-coverage box with density >= threshold (else the densest).
    Without: the highest-coverage box whose density is within sampling error of the most reliably
    dense box (its 95 % Wilson upper bound reaches the highest lower bound on the trajectory), i.e.
    where density stops rising by more than noise. Returns (step, rule satisfied).

    >>> t = PeelingTrajectory(np.zeros((3, 1)), np.ones((3, 1)), np.array([1000, 500, 250]),
    ...                       np.array([100, 100, 60]), 1000, 100, np.zeros(1), np.ones(1))
    >>> select_step(t), select_step(t, threshold=0.22), select_step(t, threshold=0.9)
    ((1, True), (2, True), (2, False))
    """
    allowed = np.ones(trajectory.n_runs.size, bool) if max_restricted is None else \
        trajectory.n_restricted <= max_restricted
    if threshold is None:
        low, high = wilson_interval(trajectory.n_cases, trajectory.n_runs)
        meets = allowed & (high >= low[allowed].max())
    else:
        meets = allowed & (trajectory.density >= threshold)
    if meets.any():
        candidates = np.flatnonzero(meets)
        return int(candidates[np.argmax(trajectory.coverage[candidates])]), True
    candidates = np.flatnonzero(allowed)
    return int(candidates[np.argmax(trajectory.density[candidates])]), False


@dataclass(frozen=True)
class PrimResult:
    """A peeling trajectory, the step chosen on it (and why), and the chosen box after pasting."""

    trajectory: PeelingTrajectory = field(repr=False)
    step: int
    rule: str
    threshold_met: bool
    box: Box
    pasted: bool
    pruned: tuple[str, ...]           # restrictions dropped from the chosen box for a quasi-p above ``prune``
    n_bootstrap: int
    bootstrap_shares: dict = field(default_factory=dict)  # parameter -> share of bootstrap boxes restricting it


def _finish(x, y, names, lower, upper, *, alpha, pasting, prune, infos, shares=None) -> tuple[Box, list]:
    """Paste a peeled box, then drop its weakest restrictions while their quasi-p exceeds ``prune``."""
    lower, upper = (paste(x, y, lower, upper, alpha=alpha) if pasting else (lower.copy(), upper.copy()))
    box = describe_box(x, y, names, lower, upper, infos=infos, bootstrap_shares=shares)
    pruned = []
    while prune is not None and box.restrictions and box.restrictions[-1].quasi_p > prune:
        pruned.append(box.restrictions[-1].name)                         # sorted by quasi-p: the weakest
        j = list(names).index(pruned[-1])
        lower[j], upper[j] = -np.inf, np.inf
        box = describe_box(x, y, names, lower, upper, infos=infos, bootstrap_shares=shares)
    return box, pruned


def prim(x, y, names: Sequence[str], *, alpha: float = 0.05, min_support: float = 0.05, threshold: float | None = None,
         step: int | None = None, pasting: bool = True, max_restricted: int | None = None, prune: float | None = 0.05,
         bootstrap: int = 0, infos: Mapping[str, ParameterInfo] | None = None, rng: np.random.Generator) -> PrimResult:
    """PRIM: peel, choose a box (``step``, or by :func:`select_step`), paste, prune, read as a rule.

    Pruning drops, weakest first, restrictions whose quasi-p-value exceeds ``prune`` (None keeps
    all). ``bootstrap`` repeats it all (the rule choosing the box included) on that many resamples
    of the runs and reports how often each parameter is restricted: which restrictions are stable."""
    x, y = _check_inputs(x, y)
    infos = infos or parameter_info(names)
    trajectory = peel(x, y, alpha=alpha, min_support=min_support)
    limit = "" if max_restricted is None else f", at most {max_restricted} parameters restricted"
    if step is not None:
        if not 0 <= step < trajectory.n_runs.size:
            raise ConfigError(f"step={step}: the trajectory has steps 0..{trajectory.n_runs.size - 1}")
        met, rule = True, f"step {step}, chosen by the user"
    elif threshold is None:
        step, met = select_step(trajectory, max_restricted=max_restricted)
        rule = f"biggest box whose density is within sampling error of the most reliably dense box{limit}"
    else:
        step, met = select_step(trajectory, threshold=threshold, max_restricted=max_restricted)
        rule = (f"biggest box with density ≥ {wep.format_percent(threshold)}{limit}" if met else
                f"no box reached density {wep.format_percent(threshold)}{limit}: the densest such box")
    options = {"alpha": alpha, "pasting": pasting, "prune": prune, "infos": infos}
    counts = np.zeros(x.shape[1])
    for _ in range(bootstrap):
        rows = rng.integers(0, y.size, y.size)
        if not 0 < y[rows].sum() < y.size:
            continue
        again = peel(x[rows], y[rows], alpha=alpha, min_support=min_support)
        chosen, _ = select_step(again, threshold=threshold, max_restricted=max_restricted)
        box, _ = _finish(x[rows], y[rows], names, again.lower[chosen], again.upper[chosen], **options)
        counts[[list(names).index(r.name) for r in box.restrictions]] += 1
    shares = {names[j]: counts[j] / bootstrap for j in np.argsort(-counts, kind="stable") if counts[j]}
    box, pruned = _finish(x, y, names, trajectory.lower[step], trajectory.upper[step], **options,
                          shares=shares if bootstrap else None)
    return PrimResult(trajectory, step, rule, met, box, pasting, tuple(pruned), bootstrap, shares)


@dataclass(frozen=True)
class CartResult:
    """The leaves of a shallow classification tree that predict the case, densest first."""

    boxes: tuple[Box, ...]
    coverage: float                   # of all the case leaves together
    density: float
    max_depth: int
    min_samples_leaf: int
    n_leaves: int
    n_weak_leaves: int                # leaves predicting the case but not clearly above the base rate


def cart(x, y, names: Sequence[str], *, max_depth: int = 3, min_samples_leaf: int | None = None,
         infos: Mapping[str, ParameterInfo] | None = None, rng: np.random.Generator) -> CartResult:
    """A tree with balanced class weights (so a leaf predicts the case when its density beats the
    base rate); sibling leaves with the same prediction are merged, and of the leaves predicting the
    case those whose density's 95 % lower bound clears the base rate are read as rules."""
    from sklearn.tree import DecisionTreeClassifier

    x, y = _check_inputs(x, y)
    leaf = max(20, int(0.01 * y.size)) if min_samples_leaf is None else int(min_samples_leaf)
    model = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=leaf, class_weight="balanced",
                                   random_state=int(rng.integers(2**31 - 1))).fit(x, y)
    tree = model.tree_
    predicts = {}                                                     # node -> True/False or None (mixed)

    def walk(node: int) -> bool | None:
        left, right = tree.children_left[node], tree.children_right[node]
        if left < 0:
            predicts[node] = bool(model.classes_[np.argmax(tree.value[node][0])])
        else:
            a, b = walk(left), walk(right)
            predicts[node] = a if a is not None and a == b else None
        return predicts[node]

    walk(0)
    leaves, d = [], x.shape[1]

    def collect(node: int, lower: np.ndarray, upper: np.ndarray) -> None:
        if predicts[node] is not None:
            if predicts[node]:
                leaves.append((lower, upper))
            return
        j, cut = tree.feature[node], tree.threshold[node]
        collect(tree.children_left[node], lower, np.where(np.arange(d) == j, np.minimum(upper, cut), upper))
        collect(tree.children_right[node], np.where(np.arange(d) == j, np.maximum(lower, cut), lower), upper)

    collect(0, np.full(d, -np.inf), np.full(d, np.inf))
    kept, union = [], np.zeros(y.size, bool)
    for lower, upper in leaves:
        box = describe_box(x, y, names, lower, upper, infos=infos, strict_lower=True)
        if box.density_ci95[0] > box.base_rate:                       # clearly denser than the base rate
            kept.append(box)
            union |= _inside(x, lower, upper, strict_lower=True).all(axis=1)
    covered = int((union & y).sum())
    return CartResult(tuple(sorted(kept, key=lambda b: -b.density)), covered / y.sum(),
                      covered / union.sum() if union.any() else float("nan"), max_depth, leaf,
                      int(model.get_n_leaves()), len(leaves) - len(kept))


def command(argv: Sequence[str]) -> int:
    """``python -m sim discover <results dir> [options]``: see :func:`sim.discovery_report.command`."""
    from sim.discovery_report import command as discover

    return discover(argv)
