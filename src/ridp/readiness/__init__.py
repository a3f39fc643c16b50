"""Data readiness: profile, declarative checks, dimension scores and a verdict (issue 6).

Part of the analytical core: Ibis tables in, frozen results out; never imports Django.
"""
