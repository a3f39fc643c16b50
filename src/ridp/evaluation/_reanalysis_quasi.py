"""The quasi-experimental part of the standalone reanalysis script (text, inserted before its ``main``).

Not ridp code: it is written out and run by another Python that must not import ridp. Each estimator is
recomputed from the Parquet file with the libraries directly: statsmodels for the 2×2 design and interrupted time
series, pyfixest for two-way fixed effects and Sun-Abraham, pandas group means for Callaway-Sant'Anna (its
point estimate; its bootstrap errors are not rechecked), scipy's NNLS and Nelder-Mead for synthetic control.
"""

from typing import Final

QUASI_PART: Final = r"""

# ---- quasi-experimental estimators ---------------------------------------------------------------------------------
QUASI = ("did", "twfe", "callaway_santanna", "sun_abraham", "its", "synth")


def quasi_columns():
    design = PLAN.get("design", {})
    columns = [PLAN["primary"]["column"], PLAN["treatment"], *PLAN["covariates"]]
    columns += [design[k] for k in ("post", "time", "offset", "season") if k in design]
    columns += [c for c in (PLAN["unit"], PLAN["cluster"]) if c]
    columns += list(design.get("predictors", [])) + [s[0] for s in design.get("special", [])]
    return list(dict.fromkeys(columns))


def normal_result(effect, se, alpha):
    from scipy import stats

    z = stats.norm.ppf(1 - alpha / 2)
    return {"effect": float(effect), "se": float(se), "ci_low": float(effect - z * se),
            "ci_high": float(effect + z * se), "p_value": float(2 * stats.norm.sf(abs(effect / se)))}


def q_did(frame, design, alpha):
    y = as_float(frame[PLAN["primary"]["column"]], "outcome")
    g = as_float(frame[PLAN["treatment"]], "group")
    p = as_float(frame[design["post"]], "post")
    X = np.column_stack([np.ones_like(y), g * p, g, p, *(as_float(frame[c], c) for c in PLAN["covariates"])])
    se = SETTINGS["se_type"]
    numbers = {"n": int(len(y))}
    if se == "means":
        cell = {(a, b): y[(g == a) & (p == b)].mean() for a in (0, 1) for b in (0, 1)}
        numbers["effect"] = float(cell[1, 1] - cell[1, 0] - (cell[0, 1] - cell[0, 0]))
        return numbers, [], "difference of the four cell means (pandas)"
    if se in ("iid", "HC1", "HC2"):
        fit = OLS(y, X).fit(cov_type="nonrobust" if se == "iid" else se)
        numbers.update(t_result(fit.params[1], fit.bse[1], fit.df_resid, alpha))
        return numbers, [], f"statsmodels {statsmodels.__version__} OLS, {se} errors, t with n - k df"
    groups = pd.factorize(frame[PLAN["cluster"]])[0]
    if se == "CR1":
        fit = OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": groups})
        numbers.update(t_result(fit.params[1], fit.bse[1], len(np.unique(groups)) - 1, alpha))
        return numbers, [], "statsmodels OLS, CR1 errors, t with G - 1 df"
    if se == "CR2":
        numbers.update(cr2(y, X, groups, alpha))
        return numbers, [], "CR2 errors with Bell-McCaffrey df (numpy)"
    numbers.update(wild(y, X, groups))
    return numbers, ["p_value"], "restricted wild cluster bootstrap, Webb weights (numpy)"


def two_way_demean(columns, units, times):
    from pyfixest.estimation import demean

    flist = np.column_stack([pd.factorize(units)[0], pd.factorize(times)[0]]).astype(np.uint64)
    return demean(np.asarray(columns, dtype=np.float64), flist, np.ones(len(columns)), tol=1e-10)[0]


def q_twfe(frame, design, alpha):
    import pyfixest as pf

    cluster = PLAN["cluster"] or PLAN["unit"]
    safe = pd.DataFrame({"y": as_float(frame[PLAN["primary"]["column"]], "outcome"),
                         "d": as_float(frame[PLAN["treatment"]], "treatment"), "u": frame[PLAN["unit"]].to_numpy(),
                         "t": frame[design["time"]].to_numpy(), "g": pd.factorize(frame[cluster])[0]})
    xs = [f"x{i}" for i in range(len(PLAN["covariates"]))]
    for name, column in zip(xs, PLAN["covariates"]):
        safe[name] = as_float(frame[column], column)
    se = SETTINGS["se_type"]
    numbers = {"n": int(len(safe))}
    if se == "wild":
        cols = two_way_demean(safe[["y", "d", *xs]].to_numpy(), safe["u"], safe["t"])
        X = np.column_stack([np.ones(len(cols)), cols[:, 1:]])
        numbers.update(wild(cols[:, 0], X, safe["g"].to_numpy()))
        return numbers, ["p_value"], "wild cluster bootstrap on the two-way demeaned data (pyfixest demean, numpy)"
    vcov = {"iid": "iid", "HC1": "hetero"}.get(se, {"CRV1": "g"})
    fit = pf.feols("y ~ " + " + ".join(["d", *xs]) + " | u + t", data=safe, vcov=vcov)
    low, high = fit.confint(alpha=alpha).loc["d"].to_numpy()
    numbers.update({"effect": float(fit.coef()["d"]), "se": float(fit.se()["d"]), "ci_low": float(low),
                    "ci_high": float(high), "p_value": float(fit.pvalue()["d"])})
    return numbers, [], f"pyfixest {sys.modules['pyfixest'].__version__} feols with unit and time effects, {se}"


def wide_panel(frame, design):
    wide = frame.pivot(index=PLAN["unit"], columns=design["time"], values=PLAN["primary"]["column"]).sort_index(axis=1)
    if wide.isna().to_numpy().any():
        raise Failure("the panel has gaps: every unit needs every period")
    first = frame.groupby(PLAN["unit"])[PLAN["treatment"]].min().reindex(wide.index).to_numpy(dtype=float)
    periods = wide.columns.to_numpy(dtype=float)
    first = np.where(np.isnan(first) | (first == 0) | (first > periods.max()), np.inf, first)
    keep = ~(first <= periods.min())
    return wide.to_numpy(dtype=float)[keep], first[keep], periods


def q_callaway_santanna(frame, design, alpha):
    y, cohort, periods = wide_panel(frame, design)
    control, base = design.get("control", "never"), design.get("base", "varying")
    cells = []
    for g in sorted(c for c in set(cohort) if np.isfinite(c)):
        gi = int(np.searchsorted(periods, g))
        for ti in range(1, len(periods)):
            t = periods[ti]
            bi = gi - 1 if (t >= g or base == "universal") else ti - 1
            if bi < 0 or bi == ti:
                continue
            ctrl = np.isinf(cohort) if control == "never" else (
                np.isinf(cohort) | ((cohort > max(t, periods[bi])) & (cohort != g)))
            change = y[:, ti] - y[:, bi]
            cells.append((g, t, change[cohort == g].mean() - change[ctrl].mean(), np.mean(cohort == g)))
    cells = pd.DataFrame(cells, columns=["g", "t", "att", "pg"])
    post = cells[cells["t"] >= cells["g"]]
    how = design.get("aggregation", "group")
    if how == "simple":
        effect = np.average(post["att"], weights=post["pg"])
    elif how == "group":
        by = post.groupby("g").agg(att=("att", "mean"), pg=("pg", "first"))
        effect = np.average(by["att"], weights=by["pg"])
    elif how == "dynamic":
        cells["e"] = cells["t"] - cells["g"]
        by = cells.groupby("e").apply(lambda c: np.average(c["att"], weights=c["pg"]), include_groups=False)
        effect = by[by.index >= 0].mean()
    else:
        effect = post.groupby("t").apply(lambda c: np.average(c["att"], weights=c["pg"]), include_groups=False).mean()
    return {"effect": float(effect), "n": int(len(y))}, [], f"pandas group means of changes, {how} aggregation"


def q_sun_abraham(frame, design, alpha):
    import pyfixest as pf

    y, cohort, periods = wide_panel(frame, design)
    n_units, n_periods = y.shape
    c = np.repeat(cohort, n_periods)
    t = np.tile(periods, n_units)
    rel = np.where(np.isfinite(c), t - np.where(np.isfinite(c), c, 0), np.nan)
    safe = pd.DataFrame({"y": y.reshape(-1), "u": np.repeat(np.arange(n_units), n_periods), "t": t})
    names, weights = [], {}
    for g in sorted(x for x in set(cohort) if np.isfinite(x)):
        for e in sorted(set(rel[c == g])):
            if e != -1:
                name = f"c{len(names)}"
                safe[name] = ((c == g) & (rel == e)).astype(float)
                names.append(name)
                if e >= 0:
                    weights[name] = float(np.sum(cohort == g))
    fit = pf.feols("y ~ " + " + ".join(names) + " | u + t", data=safe, vcov={"CRV1": "u"})
    kept = [n for n in weights if n in fit.coef().index]
    r = pd.Series({n: weights[n] for n in kept}) / sum(weights[n] for n in kept)
    r = r.reindex(fit.coef().index, fill_value=0.0)
    vcov = np.asarray(fit._vcov)
    numbers = normal_result(float(r @ fit.coef()), math.sqrt(float(r.to_numpy() @ vcov @ r.to_numpy())), alpha)
    numbers["n"] = int(len(safe))
    return numbers, [], "pyfixest feols, cohort x event-time indicators, size-weighted"


def q_its(frame, design, alpha):
    from statsmodels.genmod.families import Poisson
    from statsmodels.genmod.generalized_linear_model import GLM

    y = as_float(frame[PLAN["primary"]["column"]], "outcome")
    post = as_float(frame[PLAN["treatment"]], "post")
    index = np.arange(len(y), dtype=float)
    columns = {"const": np.ones_like(y), "time": index, "post": post}
    if design.get("slope_change", True):
        columns["post_time"] = post * (index - index[int(np.argmax(post == 1))])
    if "season" in design:
        position, period = as_float(frame[design["season"]], "season"), design.get("period", 12)
        for k in range(1, design.get("harmonics", 2) + 1):
            columns[f"sin{k}"] = np.sin(2 * np.pi * k * position / period)
            columns[f"cos{k}"] = np.cos(2 * np.pi * k * position / period)
    X = pd.DataFrame(columns)
    family = design.get("family", "gaussian")
    se = SETTINGS["se_type"]
    lags = design.get("hac_lags", math.floor(4 * (len(y) / 100) ** (2 / 9)))
    cov = {"cov_type": "HAC", "cov_kwds": {"maxlags": lags}} if se == "HAC" else {}
    offset = np.log(as_float(frame[design["offset"]], "offset")) if "offset" in design else None
    numbers = {"n": int(len(y))}
    if family == "gaussian":
        fit = OLS(y, X).fit(**cov)
        numbers.update(t_result(fit.params["post"], fit.bse["post"], fit.df_resid, alpha))
        return numbers, [], f"statsmodels OLS segmented regression, {se} errors"
    if family == "negbin":
        raise Failure("negative binomial series are not rechecked by this script")
    fit = GLM(y, X, family=Poisson(), offset=offset).fit(scale="X2" if family == "quasipoisson" else None, **cov)
    b, s = float(fit.params["post"]), float(fit.bse["post"])
    from scipy import stats

    z = stats.norm.ppf(1 - alpha / 2)
    cf = X.copy()
    cf["post"] = 0.0
    if "post_time" in cf:
        cf["post_time"] = 0.0
    level = float(np.exp(cf.to_numpy() @ fit.params.to_numpy() + (0 if offset is None else offset))[post == 1].mean())
    numbers.update({"effect": level * (math.exp(b) - 1), "se": level * math.exp(b) * s,
                    "ci_low": level * (math.exp(b - z * s) - 1), "ci_high": level * (math.exp(b + z * s) - 1),
                    "p_value": float(2 * stats.norm.sf(abs(b / s)))})
    return numbers, [], f"statsmodels GLM {family}, level change = counterfactual x (rate ratio - 1)"


def synth_weights(v, x1, X0):
    from scipy.optimize import nnls

    root = np.sqrt(v)
    scale = 1e3 * (float(np.abs(root[:, None] * X0).max()) + 1.0)
    A = np.vstack([root[:, None] * X0, np.full((1, X0.shape[1]), scale)])
    w = nnls(A, np.concatenate([root * x1, [scale]]), maxiter=50 * X0.shape[1])[0]
    return w / w.sum()


def synth_fit(x1, X0, z1, Z0, starts, seed):
    import warnings

    from scipy.optimize import OptimizeWarning, minimize

    k = len(x1)

    def loss(params):
        v = np.abs(params) / max(float(np.abs(params).sum()), 1e-300)
        return float(np.mean((z1 - Z0 @ synth_weights(v, x1, X0)) ** 2))

    rng = np.random.default_rng(seed)
    initial = [np.full(k, 1.0 / k), *(rng.dirichlet(np.ones(k)) for _ in range(max(0, starts - 1)))]
    best = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=OptimizeWarning)
        for x0 in initial:
            found = minimize(loss, x0, method="Nelder-Mead", options={"maxiter": 400 * k, "xatol": 1e-8, "fatol": 1e-10})
            if best is None or found.fun < best.fun:
                best = found
    v = np.abs(best.x) / np.abs(best.x).sum()
    return synth_weights(v, x1, X0)


def q_synth(frame, design, alpha):
    unit, time, outcome = PLAN["treatment"], design["time"], PLAN["primary"]["column"]
    treated, start = PLAN["treated"], design["start"]
    wide = frame.pivot(index=time, columns=unit, values=outcome).sort_index()
    donors = [c for c in wide.columns if c != treated and not wide[c].isna().any()]
    pre = frame[frame[time] < start]
    if "predictor_period" in design:
        first, last = design["predictor_period"]
        pre = frame[(frame[time] >= first) & (frame[time] <= last)]
    table = {c: pre.groupby(unit)[c].mean() for c in design.get("predictors", [])}
    for column, first, last in design.get("special", []):
        window = frame[(frame[time] >= first) & (frame[time] <= last)]
        table[f"{column} {first} {last}"] = window.groupby(unit)[column].mean()
    pre_mask = np.asarray(wide.index < start)
    P = pd.DataFrame(table).reindex(wide.columns) if table else wide[pre_mask].T
    donors = [d for d in donors if not P.loc[d].isna().any()]
    units = [treated, *donors]
    scaled = (P.loc[units] / P.loc[units].std(ddof=1).replace(0, 1.0)).to_numpy(dtype=float)
    Y = wide[units].to_numpy(dtype=float)
    seed = SETTINGS["seed_synth"]

    def gap(i, pool, starts):
        w = synth_fit(scaled[i], scaled[pool].T, Y[pre_mask, i], Y[pre_mask][:, pool], starts, seed)
        return Y[:, i] - Y[:, pool] @ w

    def ratio(g):
        return float(np.sqrt(np.mean(g[~pre_mask] ** 2)) / max(np.sqrt(np.mean(g[pre_mask] ** 2)), 1e-12))

    main_gap = gap(0, list(range(1, len(units))), design.get("starts", 3))
    numbers = {"effect": float(main_gap[~pre_mask].mean()), "n": int(Y.size)}
    if SETTINGS["placebos"]:
        placebo = [gap(j, [i for i in range(1, len(units)) if i != j], 1) for j in range(1, len(units))]
        ratios = [ratio(g) for g in placebo]
        numbers["p_value"] = (1 + sum(r >= ratio(main_gap) for r in ratios)) / (len(ratios) + 1)
        means = np.array([g[~pre_mask].mean() for g in placebo])
        low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
        numbers["ci_low"], numbers["ci_high"] = numbers["effect"] - high, numbers["effect"] - low
    return numbers, [], "donor weights by NNLS under importances from Nelder-Mead (scipy), placebos in space"


def recompute_quasi(path):
    columns = quasi_columns()
    there = pq.read_schema(path).names
    missing = [c for c in columns if c not in there]
    if missing:
        raise Failure(f"columns {missing} are not in the data; its columns are {there}")
    frame = pq.read_table(path, columns=columns).to_pandas()
    rows = len(frame)
    if PLAN["estimator"] in ("did", "twfe"):  # as ridp's estimators do: rows without the outcome are dropped
        frame = frame[frame[PLAN["primary"]["column"]].notna()].reset_index(drop=True)
    data = {"rows_read": rows, "rows_dropped_missing_outcome": int(rows - len(frame))}
    method = {"did": q_did, "twfe": q_twfe, "callaway_santanna": q_callaway_santanna,
              "sun_abraham": q_sun_abraham, "its": q_its, "synth": q_synth}[PLAN["estimator"]]
    numbers, monte_carlo, described = method(frame, PLAN.get("design", {}), PLAN["alpha"])
    numbers["alpha"] = float(PLAN["alpha"])
    return numbers, data, monte_carlo, described
"""
