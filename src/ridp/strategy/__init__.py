"""Data-maturity assessment and the citywide roadmap.

Part of the analytical core: Ibis tables in, frozen results out; never imports Django.
"""
